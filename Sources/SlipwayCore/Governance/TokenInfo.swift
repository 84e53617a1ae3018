import Foundation

/// A token as the API shows it: never the token itself, nor its hash.
public struct TokenInfo: Codable, Sendable, Equatable {
    public var id: String
    public var user: String
    public var roles: [Role]
    public var createdAt: Date
    public var createdBy: String
    public var expiresAt: Date?
    public var revokedAt: Date?
    public init(id: String, user: String, roles: [Role], createdAt: Date, createdBy: String, expiresAt: Date?, revokedAt: Date?) {
        self.id = id
        self.user = user
        self.roles = roles
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
    enum CodingKeys: String, CodingKey {
        case id, user, roles
        case createdAt = "created_at", createdBy = "created_by", expiresAt = "expires_at", revokedAt = "revoked_at"
    }
}

/// `slipway token create`: the only answer that ever carries a token.
public struct TokenCreated: Codable, Sendable {
    public var token: String
    public var info: TokenInfo
    public init(token: String, info: TokenInfo) {
        self.token = token
        self.info = info
    }
}

public struct TokenCreateRequest: Codable, Sendable {
    public var user: String
    public var roles: [Role]
    /// `90d`, `12h`: nil never expires.
    public var expires: String?
    public init(user: String, roles: [Role], expires: String?) {
        self.user = user
        self.roles = roles
        self.expires = expires
    }
}

public struct TokenRevokeRequest: Codable, Sendable {
    public var id: String
    public init(id: String) { self.id = id }
}
