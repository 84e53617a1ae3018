import Foundation

/// What a token may do. `viewer` reads; `deployer` also deploys, rolls back, scales and runs operations;
/// `approver` also approves; `admin` may do everything, manages tokens and overrides windows.
/// The kernel-identified user on the admin socket (no token) is `admin`.
public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    case viewer, deployer, approver, admin

    /// Whether holding `self` grants `needed`.
    public func grants(_ needed: Role) -> Bool {
        switch self {
        case .admin: true
        case .deployer: needed == .viewer || needed == .deployer
        case .approver: needed == .viewer || needed == .approver
        case .viewer: needed == .viewer
        }
    }

    public static func < (a: Role, b: Role) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// The one table every API route is authorized against: method, path (`*` is one segment), the role it
/// needs. A route missing here is refused to everyone (the authorization test walks this table).
public enum APIAuthorization {
    public struct Entry: Sendable, Equatable {
        public var method: String
        public var path: String
        public var role: Role
    }

    static let rules: [(String, String, Role)] = [
        ("GET", "/v1/health", .viewer), ("GET", "/v1/status", .viewer), ("GET", "/v1/releases", .viewer),
        ("POST", "/v1/releases", .deployer), ("POST", "/v1/deployments", .deployer), ("GET", "/v1/deployments", .viewer),
        ("GET", "/v1/deployments/*", .viewer), ("GET", "/v1/deployments/*/log", .viewer), ("POST", "/v1/scale", .deployer),
        ("POST", "/v1/maintenance", .deployer), ("POST", "/v1/router/restart", .admin), ("GET", "/v1/locks", .viewer),
        ("POST", "/v1/locks/release", .admin), ("POST", "/v1/down", .admin), ("GET", "/v1/audit", .viewer),
        ("GET", "/v1/audit/verify", .viewer), ("GET", "/v1/gates", .viewer), ("POST", "/v1/canary", .deployer),
        ("GET", "/v1/canary", .viewer), ("POST", "/v1/backups", .deployer), ("GET", "/v1/backups", .viewer),
        ("POST", "/v1/backups/rescan", .deployer), ("POST", "/v1/backups/verify", .deployer), ("POST", "/v1/backups/restore", .admin),
        ("POST", "/v1/backups/prune", .deployer), ("POST", "/v1/drills", .deployer), ("GET", "/v1/drills", .viewer),
        ("GET", "/v1/rollback/plan", .viewer), ("GET", "/v1/migrate/dry-run", .deployer), ("GET", "/v1/events", .viewer),
        ("POST", "/v1/tokens", .admin), ("GET", "/v1/tokens", .admin), ("POST", "/v1/tokens/revoke", .admin),
        ("POST", "/v1/approvals", .approver), ("GET", "/v1/approvals/*", .viewer),
    ]
    public static let table: [Entry] = rules.map { Entry(method: $0.0, path: $0.1, role: $0.2) }

    /// The role `method path` needs, or nil when no rule names it (refused).
    public static func required(method: String, path: String) -> Role? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return table.first { e in
            guard e.method == method else { return false }
            let pattern = e.path.split(separator: "/", omittingEmptySubsequences: true)
            return pattern.count == segments.count && zip(pattern, segments).allSatisfy { $0 == "*" || $0 == $1 }
        }?.role
    }
}

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
