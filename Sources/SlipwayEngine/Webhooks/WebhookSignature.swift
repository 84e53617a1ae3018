import Crypto
import Foundation
import SlipwayBackup
import SlipwayCore

/// Checks that a webhook request comes from whoever holds the secret, in constant time.
/// GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`. GitLab: `X-Gitlab-Token: <secret>`.
public enum WebhookSignature {
    /// `headers` with lowercased names.
    public static func verify(_ provider: WebhookSettings.Provider, secret: String, headers: [String: String], body: [UInt8]) -> Bool {
        guard !secret.isEmpty else { return false }
        switch provider {
        case .github:
            guard let header = headers["x-hub-signature-256"], header.hasPrefix("sha256="),
                  let mac = Hex.bytes(header.dropFirst("sha256=".count)), mac.count == SHA256.byteCount else { return false }
            return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: SymmetricKey(data: Data(secret.utf8)))
        case .gitlab:
            guard let token = headers["x-gitlab-token"] else { return false }
            // Digests of equal length, compared by swift-crypto in constant time.
            return SHA256.hash(data: Data(token.utf8)) == SHA256.hash(data: Data(secret.utf8))
        }
    }

    /// What a GitHub sender puts in `X-Hub-Signature-256` (for tests and tools).
    public static func githubHeader(secret: String, body: [UInt8]) -> String {
        "sha256=" + Hex.string(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))))
    }
}
