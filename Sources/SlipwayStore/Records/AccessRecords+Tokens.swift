import Crypto
import Foundation
import GRDB
import SlipwayCore

struct TokenRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "tokens"
    var id: String
    var user: String
    var roles: String
    var hash: String
    var createdAt: Date
    var createdBy: String
    var expiresAt: Date?
    var revokedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, user, roles, hash
        case createdAt = "created_at", createdBy = "created_by", expiresAt = "expires_at", revokedAt = "revoked_at"
    }

    enum Columns {
        static let createdAt = Column(CodingKeys.createdAt), hash = Column(CodingKeys.hash)
    }

    var info: TokenInfo {
        TokenInfo(id: id, user: user, roles: roles.split(separator: ",").compactMap { Role(rawValue: String($0)) }, createdAt: createdAt,
                  createdBy: createdBy, expiresAt: expiresAt, revokedAt: revokedAt)
    }
}

/// API tokens: 256 random bits, shown once, kept as a SHA-256 hash.
extension AccessRecords {
    public static func tokenHash(_ token: String) -> String {
        Hex.string(SHA256.hash(data: Data(token.utf8)))
    }

    public func createToken(user: String, roles: [Role], expiresAt: Date?, createdBy: String, now: Date = Date()) throws(SlipwayError) -> TokenCreated {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let token = "slw_" + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        let id = "tok_" + String(Self.tokenHash(token + "id").prefix(10))
        let record = TokenRecord(id: id, user: user, roles: Set(roles).sorted().map(\.rawValue).joined(separator: ","), hash: Self.tokenHash(token),
                                 createdAt: now, createdBy: createdBy, expiresAt: expiresAt, revokedAt: nil)
        try write { db in try record.insert(db) }
        return TokenCreated(token: token, info: record.info)
    }

    public func tokens() throws(SlipwayError) -> [TokenInfo] {
        try read { db in try TokenRecord.order(TokenRecord.Columns.createdAt).fetchAll(db).map(\.info) }
    }

    public func revokeToken(_ id: String, now: Date = Date()) throws(SlipwayError) -> TokenInfo? {
        try write { db in
            guard var r = try TokenRecord.fetchOne(db, key: id) else { return nil }
            if r.revokedAt == nil { r.revokedAt = now }
            try r.update(db)
            return r.info
        }
    }

    public enum TokenCheck: Sendable, Equatable {
        case valid(TokenInfo)
        case unknown, expired, revoked
    }

    /// Looks the token up by its hash and compares the hashes in constant time.
    public func checkToken(_ token: String, now: Date = Date()) throws(SlipwayError) -> TokenCheck {
        let hash = Self.tokenHash(token)
        guard let r = try read({ db in try TokenRecord.filter(TokenRecord.Columns.hash == hash).fetchOne(db) }), Self.constantTimeEquals(r.hash, hash) else {
            return .unknown
        }
        if r.revokedAt != nil { return .revoked }
        if let e = r.expiresAt, e <= now { return .expired }
        return .valid(r.info)
    }

    /// Equal strings, compared in constant time for equal lengths (tokens, signatures, CSRF tokens).
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
