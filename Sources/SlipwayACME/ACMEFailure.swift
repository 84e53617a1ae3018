import Foundation

/// Why obtaining a certificate failed, in the terms its retry schedule needs: a CA that could not be reached,
/// one that said to wait (`Retry-After`, a rate limit), or one that refused the order (a challenge that did
/// not validate, a name it will not issue for).
public struct ACMEFailure: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// No answer: connection refused, a timeout, a 5xx.
        case unreachable
        /// 429 or `urn:ietf:params:acme:error:rateLimited`.
        case rateLimited
        /// The CA answered with a problem document (a challenge that failed, a name refused…).
        case refused
        /// An answer that does not follow RFC 8555.
        case protocolError
        /// Our own files (the account key, a certificate).
        case storage
    }

    public var kind: Kind
    public var message: String
    /// The wait the CA asked for (`Retry-After`), if any.
    public var retryAfter: Duration?
    /// The problem's type or the underlying error, kept as text (never a secret: ACME carries none).
    public var cause: String?

    public init(_ kind: Kind, _ message: String, retryAfter: Duration? = nil, cause: String? = nil) {
        self.kind = kind
        self.message = message
        self.retryAfter = retryAfter
        self.cause = cause
    }

    public var description: String { cause.map { "\(message) (\($0))" } ?? message }
}

/// An RFC 7807 problem document, as ACME servers send errors.
public struct ACMEProblem: Codable, Sendable, Equatable {
    public var type: String
    public var detail: String?
    public var status: Int?
    public var subproblems: [ACMEProblem]?

    public var summary: String {
        let short = type.replacingOccurrences(of: "urn:ietf:params:acme:error:", with: "")
        let inner = (subproblems ?? []).compactMap(\.detail)
        return "\(short): \(([detail].compactMap { $0 } + inner).joined(separator: "; "))"
    }
}
