import Crypto
import Foundation

/// The ACME account's key: a P-256 key (ES256), kept as PEM in a file only its owner reads (0600), made on
/// first use. Its JWK thumbprint (RFC 7638) is part of every key authorization.
public struct AccountKey: Sendable {
    /// The key's raw scalar (Crypto's key type is not `Sendable`; it is made from this where it is used).
    let raw: Data

    public init(_ key: P256.Signing.PrivateKey = P256.Signing.PrivateKey()) { raw = key.rawRepresentation }

    public var key: P256.Signing.PrivateKey {
        // The bytes came from a valid key: making it again cannot fail.
        (try? P256.Signing.PrivateKey(rawRepresentation: raw)) ?? P256.Signing.PrivateKey()
    }

    /// Reads `path`, or makes a key and writes it there (owner-only from the first byte, renamed into place).
    public static func loadOrCreate(at path: String) throws(ACMEFailure) -> AccountKey {
        if let data = FileManager.default.contents(atPath: path) {
            do { return AccountKey(try P256.Signing.PrivateKey(pemRepresentation: String(decoding: data, as: UTF8.self))) } catch {
                throw ACMEFailure(.storage, "cannot read the ACME account key \(path); expected a PEM P-256 private key (move it away to make a new account)", cause: "\(error)")
            }
        }
        let made = AccountKey()
        try ACMEFiles.writePrivate(Data(made.key.pemRepresentation.utf8), to: path)
        return made
    }

    /// The public key as a JWK, members in the lexicographic order RFC 7638 hashes them in.
    public var jwk: [(String, String)] {
        let point = key.publicKey.x963Representation  // 0x04 || X || Y
        return [("crv", "P-256"), ("kty", "EC"), ("x", Base64URL.encode(point.dropFirst().prefix(32))), ("y", Base64URL.encode(point.suffix(32)))]
    }

    /// `{"crv":"P-256","kty":"EC","x":"…","y":"…"}`: no spaces, the order above (the thumbprint's input).
    public var jwkJSON: String { "{" + jwk.map { "\"\($0.0)\":\"\($0.1)\"" }.joined(separator: ",") + "}" }

    /// RFC 7638: base64url(SHA-256(the JWK's canonical JSON)).
    public var thumbprint: String { Base64URL.encode(SHA256.hash(data: Data(jwkJSON.utf8))) }

    /// RFC 8555 §8.1: `token.thumbprint`.
    public func keyAuthorization(token: String) -> String { token + "." + thumbprint }
}
