/// How the router keeps a client on one release while two serve (a canary): by a cookie the router sets
/// (`{ cookie: slipway-canary }`: the cookie names the release the client got; it keeps it as weights grow,
/// until that release stops serving) or by a request header (`{ header: X-User-Id }`: the value is hashed
/// to a bucket of 100; the canary takes the lowest buckets, so a user on the canary stays there as its
/// weight grows, and one on the stable release moves at most once).
public enum StickyRouting: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    case cookie(String)
    case header(String)

    enum CodingKeys: String, CodingKey { case cookie, header }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let name = try c.decodeIfPresent(String.self, forKey: .cookie) { self = .cookie(name); return }
        self = .header(try c.decode(String.self, forKey: .header))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .cookie(let name): try c.encode(name, forKey: .cookie)
        case .header(let name): try c.encode(name, forKey: .header)
        }
    }

    public var description: String {
        switch self {
        case .cookie(let name): "cookie \(name)"
        case .header(let name): "header \(name)"
        }
    }
}
