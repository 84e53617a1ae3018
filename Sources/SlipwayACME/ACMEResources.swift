/// The ACME resources Slipway reads (RFC 8555 §7.1), with only the members it uses.
public struct ACMEDirectory: Decodable, Sendable {
    public var newNonce: String
    public var newAccount: String
    public var newOrder: String
    /// RFC 9773 (ACME Renewal Information), when the CA offers it.
    public var renewalInfo: String?
}

public struct ACMEIdentifier: Codable, Sendable, Equatable {
    public var type: String
    public var value: String
    public static func dns(_ name: String) -> ACMEIdentifier { ACMEIdentifier(type: "dns", value: name) }
}

public struct ACMEOrder: Decodable, Sendable {
    /// pending, ready, processing, valid, invalid.
    public var status: String
    public var authorizations: [String]
    public var finalize: String
    public var certificate: String?
    public var error: ACMEProblem?
}

public struct ACMEAuthorization: Decodable, Sendable {
    /// pending, valid, invalid, deactivated, expired, revoked.
    public var status: String
    public var identifier: ACMEIdentifier
    public var challenges: [ACMEChallenge]
}

public struct ACMEChallenge: Decodable, Sendable {
    /// http-01, tls-alpn-01, dns-01…
    public var type: String
    public var url: String
    public var token: String?
    public var status: String
    public var error: ACMEProblem?
}

/// Which challenge proves control of a name: HTTP-01 (a token over plain HTTP on port 80) or TLS-ALPN-01
/// (a certificate at a handshake offering `acme-tls/1` on port 443).
public enum ChallengeKind: String, Sendable, Codable, CaseIterable {
    case http01 = "http-01"
    case tlsALPN01 = "tls-alpn-01"
}

/// What the edge must answer while a challenge is being validated.
public enum PublishedChallenge: Sendable, Equatable {
    /// `GET /.well-known/acme-challenge/TOKEN` answers the key authorization.
    case http01(token: String, keyAuthorization: String)
    /// A handshake for `name` offering `acme-tls/1` gets this self-signed certificate (PEM).
    case tlsALPN01(name: String, certificatePEM: String, keyPEM: String)
}

/// Where challenges are published: the edge answers them itself.
public protocol ChallengeResponder: Sendable {
    func publish(_ challenge: PublishedChallenge) async
    func withdraw(_ challenge: PublishedChallenge) async
}
