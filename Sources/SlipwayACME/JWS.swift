import Crypto
import Foundation

/// RFC 8555 §6.2: every ACME POST is a flattened JWS signed with the account key (ES256: the raw 64-byte r‖s),
/// its protected header naming the nonce, the URL, and the key itself (new account) or the account's URL.
public enum JWS {
    public enum Signer: Sendable {
        /// `jwk`: only newAccount (the account has no URL yet).
        case jwk
        /// `kid`: the account's URL.
        case kid(String)
    }

    /// The request body. `payload` nil: POST-as-GET (an empty payload, RFC 8555 §6.3).
    public static func sign(payload: Data?, url: String, nonce: String, key: AccountKey, signer: Signer) throws(ACMEFailure) -> Data {
        var header = "{\"alg\":\"ES256\","
        switch signer {
        case .jwk: header += "\"jwk\":\(key.jwkJSON),"
        case .kid(let kid): header += "\"kid\":\(try quote(kid)),"
        }
        header += "\"nonce\":\(try quote(nonce)),\"url\":\(try quote(url))}"
        let protected = Base64URL.encode(Data(header.utf8))
        let body = payload.map { Base64URL.encode($0) } ?? ""
        let signature: P256.Signing.ECDSASignature
        do { signature = try key.key.signature(for: Data("\(protected).\(body)".utf8)) } catch {
            throw ACMEFailure(.protocolError, "cannot sign the ACME request", cause: "\(error)")
        }
        let json = "{\"protected\":\"\(protected)\",\"payload\":\"\(body)\",\"signature\":\"\(Base64URL.encode(signature.rawRepresentation))\"}"
        return Data(json.utf8)
    }

    /// A JSON string literal.
    static func quote(_ s: String) throws(ACMEFailure) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        do { return String(decoding: try encoder.encode(s), as: UTF8.self) } catch {
            throw ACMEFailure(.protocolError, "cannot write a JSON string for the ACME request", cause: "\(error)")
        }
    }
}
