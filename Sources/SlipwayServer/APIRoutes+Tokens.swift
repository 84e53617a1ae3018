import Foundation
import Hummingbird
import SlipwayCore
import SlipwayEngine
import SlipwayStore

extension APIRoutes {
    /// `POST /v1/tokens` (the only answer that carries a token), `GET /v1/tokens`, `POST /v1/tokens/revoke`.
    static func addTokenRoutes(_ v1: RouterGroup<SlipwayRequestContext>, engine: Engine) {
        let store = engine.store
        v1.post("tokens") { request, context in
            let body = try await APIResponse.decode(TokenCreateRequest.self, from: request)
            let who = try await context.principal()
            let user = body.user.trimmingCharacters(in: .whitespaces)
            guard !user.isEmpty, user.count <= 100 else { throw SlipwayError.usage("--user: expected a name") }
            guard !body.roles.isEmpty else { throw SlipwayError.usage("--role: give at least one of viewer, deployer, approver, admin") }
            var expiresAt: Date?
            if let text = body.expires {
                guard let d = DurationParsing.parse(text), d > .zero else {
                    throw SlipwayError.usage("--expires: expected a duration like 90d, 12h or 30m, got '\(text)'")
                }
                expiresAt = Date().addingTimeInterval(d.seconds)
            }
            let created = try store.createToken(user: user, roles: body.roles, expiresAt: expiresAt, createdBy: who.name)
            try store.audit(who, action: "token.create", target: created.info.id, outcome: "ok",
                        detail: "for \(user) as \(created.info.roles.map(\.rawValue).joined(separator: ", "))" + (expiresAt.map { ", expires \($0.formatted(Date.ISO8601FormatStyle()))" } ?? ""))
            return APIResponse.json(created, status: .created)
        }
        v1.get("tokens") { _, _ in APIResponse.json(try store.tokens()) }
        v1.post("tokens/revoke") { request, context in
            let body = try await APIResponse.decode(TokenRevokeRequest.self, from: request)
            let who = try await context.principal()
            guard let info = try store.revokeToken(body.id) else { throw SlipwayError.notFound("no token \(body.id); slipway token list shows them") }
            try store.audit(who, action: "token.revoke", target: info.id, outcome: "ok", detail: "of \(info.user)", before: "active", after: "revoked")
            return APIResponse.json(info)
        }
    }
}
