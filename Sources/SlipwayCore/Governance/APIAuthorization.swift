import Foundation

/// The one table every API route is authorized against: method, path (`*` is one segment), the role it
/// needs. A route missing here is refused to everyone (the authorization test walks this table).
public enum APIAuthorization {
    public struct Entry: Sendable, Equatable {
        public var method: String
        public var path: String
        public var role: Role
    }

    static let rules: [(String, String, Role)] = [
        ("GET", "/v1/health", .viewer), ("GET", "/v1/status", .viewer), ("GET", "/v1/releases", .viewer), ("GET", "/v1/traffic", .viewer), ("GET", "/v1/traffic/releases", .viewer),
        ("POST", "/v1/releases", .deployer), ("POST", "/v1/deployments", .deployer), ("GET", "/v1/deployments", .viewer),
        ("GET", "/v1/deployments/*", .viewer), ("GET", "/v1/deployments/*/log", .viewer), ("POST", "/v1/scale", .deployer),
        ("POST", "/v1/maintenance", .deployer), ("POST", "/v1/router/restart", .admin), ("GET", "/v1/locks", .viewer), ("GET", "/v1/certificates", .viewer),
        // A fleet's controller, through the host agent: its challenge answers and the certificate it obtained.
        ("POST", "/v1/acme/challenges", .admin), ("PUT", "/v1/certificates/*", .admin),
        ("POST", "/v1/locks/release", .admin), ("POST", "/v1/down", .admin), ("GET", "/v1/audit", .viewer),
        ("GET", "/v1/audit/verify", .viewer), ("GET", "/v1/gates", .viewer), ("POST", "/v1/canary", .deployer),
        ("GET", "/v1/canary", .viewer), ("POST", "/v1/backups", .deployer), ("GET", "/v1/backups", .viewer), ("GET", "/v1/backups/continuous", .viewer),
        ("POST", "/v1/backups/rescan", .deployer), ("POST", "/v1/backups/verify", .deployer), ("POST", "/v1/backups/restore", .admin), ("POST", "/v1/backups/restore/plan", .deployer),
        ("POST", "/v1/backups/prune", .deployer), ("POST", "/v1/drills", .deployer), ("GET", "/v1/drills", .viewer),
        ("GET", "/v1/rollback/plan", .viewer), ("GET", "/v1/migrate/dry-run", .deployer), ("GET", "/v1/events", .viewer),
        ("POST", "/v1/tokens", .admin), ("GET", "/v1/tokens", .admin), ("POST", "/v1/tokens/revoke", .admin),
        ("POST", "/v1/approvals", .approver), ("GET", "/v1/approvals/*", .viewer), ("GET", "/v1/alerts", .viewer),
        ("POST", "/v1/silences", .deployer), ("GET", "/v1/notifications", .viewer), ("GET", "/v1/incidents", .viewer),
        ("GET", "/v1/incidents/*", .viewer), ("GET", "/v1/incidents/*/review", .viewer), ("POST", "/v1/incidents/*", .deployer), ("GET", "/v1/report", .viewer),
        ("GET", "/metrics", .viewer), ("GET", "/v1/logs/app", .viewer), ("POST", "/v1/secrets/sources", .viewer),
        ("GET", "/v1/accessories", .viewer), ("GET", "/v1/accessories/*/logs", .viewer), ("POST", "/v1/accessories/*/start", .deployer),
        ("POST", "/v1/accessories/*/stop", .deployer), ("POST", "/v1/accessories/*/restart", .deployer),
        // The dashboard: pages for viewers; each button needs the role of the API route it stands for.
        ("GET", "/", .viewer), ("GET", "/ui", .viewer), ("GET", "/ui/env/*", .viewer), ("GET", "/ui/deployments/*", .viewer),
        ("GET", "/ui/backups", .viewer), ("GET", "/ui/alerts", .viewer), ("GET", "/ui/incidents/*", .viewer), ("GET", "/ui/dora", .viewer),
        ("GET", "/ui/events", .viewer), ("POST", "/ui/logout", .viewer), ("POST", "/ui/env/*/rollback", .deployer),
        ("POST", "/ui/env/*/maintenance", .deployer), ("POST", "/ui/env/*/canary", .deployer), ("POST", "/ui/env/*/approvals", .approver), ("POST", "/v1/ui/links", .viewer),
    ]
    public static let table: [Entry] = rules.map { Entry(method: $0.0, path: $0.1, role: $0.2) }

    /// Routes a provider calls, authenticated by the request's signature over its body instead of a token.
    public static let signed: [(method: String, path: String)] = [("POST", "/hooks/github"), ("POST", "/hooks/gitlab")]

    public static func isSigned(method: String, path: String) -> Bool {
        signed.contains { $0.method == method && $0.path == path }
    }

    /// Routes anyone may call: the daemon's liveness and readiness (for a load balancer or systemd).
    /// The dashboard's sign-in (a token or a one-time link is the credential) and its stylesheet and script.
    public static let open: [(method: String, path: String)] = [
        ("GET", "/health/live"), ("GET", "/health/ready"), ("GET", "/ui/login"), ("POST", "/ui/login"), ("GET", "/ui/login/*"),
        ("GET", "/ui/static/app.css"), ("GET", "/ui/static/app.js"), ("GET", "/favicon.ico"),
    ]

    public static func isOpen(method: String, path: String) -> Bool {
        open.contains { $0.method == method && matches($0.path, path) }
    }

    static func matches(_ pattern: String, _ path: String) -> Bool {
        let p = pattern.split(separator: "/", omittingEmptySubsequences: true), s = path.split(separator: "/", omittingEmptySubsequences: true)
        return p.count == s.count && zip(p, s).allSatisfy { $0 == "*" || $0 == $1 }
    }

    /// The role `method path` needs, or nil when no rule names it (refused).
    public static func required(method: String, path: String) -> Role? {
        table.first { $0.method == method && matches($0.path, path) }?.role
    }
}
