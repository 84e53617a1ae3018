/// Where the request being served came from, for the audit log: the source address (or the admin
/// socket), the request id (the client's `X-Request-Id`, or one the daemon made), and the roles the
/// caller was authorized with. Bound for the request's task by the API; carried into the deployment it starts.
public struct RequestOrigin: Sendable, Equatable {
    public var source: String
    public var requestId: String
    public var roles: [Role]?

    public init(source: String, requestId: String, roles: [Role]? = nil) {
        self.source = source
        self.requestId = requestId
        self.roles = roles
    }

    @TaskLocal public static var current: RequestOrigin?

    /// A client's request id if it is a plain token (at most 64 of `A-Z a-z 0-9 - _ .`), else nil.
    public static func acceptable(_ id: String?) -> String? {
        guard let id, !id.isEmpty, id.count <= 64,
              id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else { return nil }
        return id
    }
}
