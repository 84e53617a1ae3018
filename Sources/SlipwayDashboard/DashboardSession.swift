import Crypto
import Foundation
import SlipwayCore
import SlipwayStore

/// A signed-in dashboard user: who, with which roles, through which token (or `socket` for a link made on
/// the admin socket), until when. The cookie holds it with an HMAC under the daemon's session key, so the
/// daemon keeps no session table; each request checks the token is still valid (a revoked token's sessions
/// end with it). The CSRF token every form carries is an HMAC of the session too.
public struct DashboardSession: Codable, Sendable, Equatable {
    public var user: String
    public var roles: [Role]
    /// The token's id, or nil for a session made on the admin socket.
    public var tokenId: String?
    public var expiresAt: Date
    /// Random, so two sessions of one user have different CSRF tokens.
    public var nonce: String

    public init(user: String, roles: [Role], tokenId: String?, expiresAt: Date, nonce: String = DashboardSession.randomNonce()) {
        self.user = user
        self.roles = roles
        self.tokenId = tokenId
        self.expiresAt = expiresAt
        self.nonce = nonce
    }

    public static func randomNonce() -> String { Hex.random(bytes: 16) }

    /// The session's user as the API's authorization and audit see them.
    public var principal: Principal { .token(user, roles: roles) }

    public func may(_ role: Role) -> Bool { principal.may(role) }

    enum CodingKeys: String, CodingKey {
        case user, roles, nonce
        case tokenId = "token_id", expiresAt = "expires_at"
    }
}

/// Signs and checks session cookies and CSRF tokens with one key (`<root>/dashboard.key`, 0600).
public struct SessionSigner: Sendable {
    let keyBytes: Data
    var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    public init(key: Data) { self.keyBytes = key }

    /// The key file under the root, made with 32 random bytes the first time.
    public static func loadOrCreate(root: String) throws -> SessionSigner {
        let path = root + "/dashboard.key"
        if let data = FileManager.default.contents(atPath: path), data.count >= 32 { return SessionSigner(key: data) }
        let fresh = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        guard FileManager.default.createFile(atPath: path, contents: fresh, attributes: [.posixPermissions: 0o600]) else {
            throw SlipwayError(.internal, "cannot write \(path)")
        }
        return SessionSigner(key: fresh)
    }

    /// `<base64url payload>.<base64url HMAC>`.
    public func cookie(for session: DashboardSession) throws(SlipwayError) -> String {
        let payload = Self.base64url(try SlipwayJSON.encode(session, with: JSONEncoder(), what: "the dashboard session"))
        return payload + "." + mac(payload)
    }

    /// The session in a cookie whose signature holds and which has not expired.
    public func session(from cookie: String, now: Date = Date()) -> DashboardSession? {
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, AccessRecords.constantTimeEquals(mac(String(parts[0])), String(parts[1])),
              let data = Self.unbase64url(String(parts[0])), let session = try? JSONDecoder().decode(DashboardSession.self, from: data),
              session.expiresAt > now else { return nil }
        return session
    }

    /// The CSRF token for a session's forms.
    public func csrf(for session: DashboardSession) -> String { mac("csrf." + session.nonce + "." + session.user) }

    public func checkCSRF(_ token: String?, session: DashboardSession) -> Bool {
        guard let token else { return false }
        return AccessRecords.constantTimeEquals(csrf(for: session), token)
    }

    func mac(_ text: String) -> String {
        Self.base64url(Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)))
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func unbase64url(_ text: String) -> Data? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }
}
