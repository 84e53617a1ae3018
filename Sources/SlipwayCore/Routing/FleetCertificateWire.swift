import Foundation

/// An ACME challenge's answer that a fleet's controller puts on every host's router while the CA validates, so
/// whichever host the CA reaches answers it (`POST /v1/acme/challenges`, on the host API and the router's control).
public struct ChallengeAnswer: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case http01 = "http-01", tlsALPN01 = "tls-alpn-01" }
    public var kind: Kind
    /// HTTP-01: the token in `/.well-known/acme-challenge/TOKEN` and the key authorization served for it.
    public var token: String?
    public var keyAuthorization: String?
    /// TLS-ALPN-01: the name under validation and the self-signed certificate (and its throwaway key) shown for it.
    public var name: String?
    public var certificatePEM: String?
    public var keyPEM: String?
    /// True: the answer is taken down (the CA is done with it).
    public var withdraw: Bool

    public init(kind: Kind, token: String? = nil, keyAuthorization: String? = nil, name: String? = nil, certificatePEM: String? = nil,
                keyPEM: String? = nil, withdraw: Bool = false) {
        self.kind = kind
        self.token = token
        self.keyAuthorization = keyAuthorization
        self.name = name
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
        self.withdraw = withdraw
    }

    enum CodingKeys: String, CodingKey {
        case kind, token, name, withdraw
        case keyAuthorization = "key_authorization"
        case certificatePEM = "certificate_pem"
        case keyPEM = "key_pem"
    }
}

/// A certificate a fleet's controller obtained, installed into an environment's ACME files on one host
/// (`PUT /v1/certificates/ENV`): its router serves it from the next handshake.
public struct CertificateInstall: Codable, Sendable, Equatable, CustomStringConvertible {
    public var chainPEM: String
    public var keyPEM: String

    public init(chainPEM: String, keyPEM: String) {
        self.chainPEM = chainPEM
        self.keyPEM = keyPEM
    }

    /// Never the key.
    public var description: String { "CertificateInstall(chain: \(chainPEM.utf8.count) bytes, key: redacted)" }

    enum CodingKeys: String, CodingKey {
        case chainPEM = "chain_pem"
        case keyPEM = "key_pem"
    }
}
