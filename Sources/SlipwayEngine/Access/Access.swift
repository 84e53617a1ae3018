import Foundation
import SlipwayCore
import SlipwayStore

/// Who may do what, and the record of what they did: API tokens (created, listed, revoked, checked on every
/// request) and the audit log. It owns the token and audit tables; the API and the dashboard come here for
/// both, never to the store.
public struct Access: Sendable, FeatureObject {
    let context: EngineContext

    /// A bearer token as presented: valid (with whose it is), unknown, expired or revoked. Compared in constant time.
    public func check(token: String) throws(SlipwayError) -> AccessRecords.TokenCheck { try store.access.checkToken(token) }

    /// True while the token `id` exists, is not revoked and has not expired (a dashboard session made from it lives as long).
    public func isActive(token id: String, now: Date = Date()) -> Bool {
        guard let token = try? store.access.tokens().first(where: { $0.id == id }) else { return false }
        return token.revokedAt == nil && (token.expiresAt.map { $0 > now } ?? true)
    }

    /// `slipway token create`: the only answer that carries the token itself.
    public func createToken(_ request: TokenCreateRequest, by who: Principal, now: Date = Date()) throws(SlipwayError) -> TokenCreated {
        let user = request.user.trimmingCharacters(in: .whitespaces)
        guard !user.isEmpty, user.count <= 100 else { throw SlipwayError.usage("--user: expected a name") }
        guard !request.roles.isEmpty else { throw SlipwayError.usage("--role: give at least one of viewer, deployer, approver, admin") }
        var expiresAt: Date?
        if let text = request.expires {
            guard let d = DurationParsing.parse(text), d > .zero else {
                throw SlipwayError.usage("--expires: expected a duration like 90d, 12h or 30m, got '\(text)'")
            }
            expiresAt = now.addingTimeInterval(d.seconds)
        }
        let created = try store.access.createToken(user: user, roles: request.roles, expiresAt: expiresAt, createdBy: who.name, now: now)
        try store.audit(who, action: "token.create", target: created.info.id, outcome: "ok",
                        detail: "for \(user) as \(created.info.roles.map(\.rawValue).joined(separator: ", "))"
                            + (expiresAt.map { ", expires \($0.formatted(Date.ISO8601FormatStyle()))" } ?? ""))
        return created
    }

    public func tokens() throws(SlipwayError) -> [TokenInfo] { try store.access.tokens() }

    public func revokeToken(_ id: String, by who: Principal) throws(SlipwayError) -> TokenInfo {
        guard let info = try store.access.revokeToken(id) else { throw SlipwayError.notFound("no token \(id); slipway token list shows them") }
        try store.audit(who, action: "token.revoke", target: info.id, outcome: "ok", detail: "of \(info.user)", before: "active", after: "revoked")
        return info
    }

    /// Appends to the audit log (hash-chained); a failed write throws and is counted.
    public func audit(_ who: Principal, action: String, target: String, outcome: String, detail: String = "") throws(SlipwayError) {
        try store.audit(who, action: action, target: target, outcome: outcome, detail: detail)
    }

    public func auditEntries(limit: Int, environment: String? = nil, since: Date? = nil) throws(SlipwayError) -> [AuditEntry] {
        if let environment { _ = try context.config.environment(environment) }
        return try store.access.auditEntries(limit: limit, environment: environment, since: since)
    }

    public func verifyAudit() throws(SlipwayError) -> AuditVerification { try store.access.verifyAuditChain() }
}
