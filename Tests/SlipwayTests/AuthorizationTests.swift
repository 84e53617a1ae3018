import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayStore
import Testing

/// Every API route against every role, and against no token, an unknown, an expired and a revoked one:
/// allowed or refused exactly as `APIAuthorization.table` says.
@Suite(.serialized)
struct AuthorizationTests {
    static func call(_ s: Sandbox, _ method: String, _ path: String, token: String?) async throws -> MiniHTTPClient.Response {
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        // An empty object never decodes into a request that changes something: an allowed POST ends in 400.
        return try await MiniHTTPClient().request(method, .unix(path: s.config.socketPath), path: path, headers: headers,
                                                  body: method == "POST" ? Array("{}".utf8) : nil, timeout: .seconds(10))
    }

    /// Who may use a route that needs each role, written out here independently of `Role.grants`.
    static let mayUse: [Role: Set<Role>] = [
        .viewer: [.viewer, .deployer, .approver, .admin],
        .deployer: [.deployer, .admin],
        .approver: [.approver, .admin],
        .admin: [.admin],
    ]

    @Test(.timeLimit(.minutes(2)))
    func everyRouteIsAuthorizedAgainstTheTable() async throws {
        let s = try Sandbox()
        try await s.withDaemon { _ in
            let store = try SlipwayStore(path: s.config.databasePath)
            var tokens: [Role: String] = [:]
            for role in Role.allCases { tokens[role] = try store.access.createToken(user: "\(role.rawValue)-bot", roles: [role], expiresAt: nil, createdBy: "test").token }
            let expired = try store.access.createToken(user: "old-bot", roles: [.admin], expiresAt: Date().addingTimeInterval(-60), createdBy: "test").token
            let revoked = try store.access.createToken(user: "gone-bot", roles: [.admin], expiresAt: nil, createdBy: "test")
            _ = try store.access.revokeToken(revoked.info.id)
            var checked = 0
            for entry in APIAuthorization.table {
                // The event stream, read up to now rather than followed.
                let path = entry.path.replacingOccurrences(of: "*", with: "1") + (entry.path == "/ui/events" ? "?follow=false" : "")
                for role in Role.allCases {
                    let r = try await Self.call(s, entry.method, path, token: tokens[role])
                    let allowed = ![401, 403].contains(r.status)
                    #expect(allowed == Self.mayUse[entry.role]!.contains(role), "\(role) \(entry.method) \(path): \(r.status) \(r.bodyText)")
                    checked += 1
                }
                let socket = try await Self.call(s, entry.method, path, token: nil)
                #expect(![401, 403].contains(socket.status), "the socket's user is admin: \(entry.method) \(path) \(socket.status)")
                for (name, token) in [("expired", expired), ("revoked", revoked.token), ("unknown", "slw_not-a-token")] {
                    let r = try await Self.call(s, entry.method, path, token: token)
                    #expect(r.status == 401, "\(name) token on \(entry.method) \(path): \(r.status)")
                    #expect(!r.bodyText.contains(token), "the token was echoed")
                }
            }
            #expect(checked == APIAuthorization.table.count * Role.allCases.count)
            // Signed routes take no token: an admin's token, or the admin socket, without the provider's signature is not enough
            // (with no webhook configured they are not there at all).
            for signed in APIAuthorization.signed {
                for token in [tokens[.admin], nil] {
                    let r = try await Self.call(s, signed.method, signed.path, token: token)
                    #expect(r.status == 404 && r.bodyText.contains("webhook is configured"), "\(signed.path): \(r.status) \(r.bodyText)")
                }
            }
            // A route no rule names is refused to everyone, admin included.
            #expect(try await Self.call(s, "GET", "/v1/nothing-here", token: nil).status == 403)
            // Refusals are audited, without the token.
            let audit = try store.access.auditEntries(limit: 1000)
            #expect(audit.contains { $0.action == "auth.denied" && $0.actor == "viewer-bot" && $0.target == "POST /v1/deployments" })
            #expect(!audit.contains { e in tokens.values.contains { e.detail.contains($0) } })
        }
    }

    /// A token's user is the actor of what it does.
    @Test(.timeLimit(.minutes(1)))
    func aTokensUserIsTheActor() async throws {
        let s = try Sandbox()
        try await s.withDaemon { _ in
            let created: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "ci", roles: [.deployer], expires: "90d"))
            #expect(created.token.hasPrefix("slw_") && created.token.count >= 47, "256 bits, base64url")
            #expect(created.info.expiresAt.map { $0.timeIntervalSinceNow > 89 * 86_400 } == true)
            let list: [TokenInfo] = try await s.client.get("/v1/tokens")
            #expect(list.map(\.id) == [created.info.id])
            let ci = SlipwayClientTestSupport.client(s, token: created.token)
            _ = try await s.release("v1")
            let d: DeploymentInfo = try await ci.post("/v1/deployments", DeployRequest(version: "v1", environment: nil, strategy: nil, kind: .deploy, actor: ""))
            #expect(d.actor == "ci")
            #expect(try await s.outcome(d).state == .succeeded)
            // Overriding windows and freezes is for admins only.
            var override = DeployRequest(version: "v1", environment: nil, strategy: nil, kind: .deploy, actor: "")
            override.overrideWindow = true
            override.reason = "because"
            do {
                _ = try await ci.post("/v1/deployments", override, as: DeploymentInfo.self)
                Issue.record("a deployer overrode the windows")
            } catch {
                let refusal = error as? SlipwayError
                #expect(refusal?.exitCode == 3 && refusal?.message.contains("needs the admin role") == true, "\(error)")
            }
        }
    }
}

import SlipwayClient
enum SlipwayClientTestSupport {
    static func client(_ s: Sandbox, token: String) -> DaemonClient { DaemonClient(socket: s.config.socketPath, token: token) }
}
