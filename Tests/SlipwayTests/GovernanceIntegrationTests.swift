import Foundation
import GRDB
import SlipwayCore
import SlipwayRuntime
import SlipwayClient
import SlipwayHTTP
import Testing

/// Freezes, overrides and the audit chain through the real CLI against a daemon.
@Suite(.serialized)
struct GovernanceIntegrationTests {
    static func cli(_ args: [String], _ s: Sandbox) async throws -> (status: Int32, text: String) {
        let out = s.dir + "/cli-\(UUID().uuidString.prefix(6)).out"
        let status = try await ProcessSpawner.run(argv: [TestBinaries.slipway] + args + ["--config", s.dir + "/slipway.yml"], directory: s.dir,
                                                  environment: ProcessInfo.processInfo.environment, logFile: out)
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }

    @Test(.timeLimit(.minutes(2)))
    func aFreezeRefusesAnAdminOverridesWithAReasonAndTheAuditLogProvesIt() async throws {
        // A freeze that always holds: it starts every minute and lasts ten.
        let s = try Sandbox(extra: "freezes: [{ name: always, cron: \"* * * * *\", duration: 10m, timezone: Europe/Berlin }]")
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            let refused = try await Self.cli(["deploy", "v1"], s)
            #expect(refused.status == 3 && refused.text.contains("'production' is frozen (always) until "), "\(refused)")
            let gates = try await Self.cli(["gates", "v1"], s)
            #expect(gates.status == 3 && gates.text.contains("BLOCK freeze: 'production' is frozen (always)") && gates.text.contains("pass  lock"), "\(gates)")
            let noReason = try await Self.cli(["deploy", "v1", "--override-window"], s)
            #expect(noReason.status == 2 && noReason.text.contains("--override-window needs --reason"), "\(noReason)")
            let overridden = try await Self.cli(["deploy", "v1", "--override-window", "--reason", "hotfix for INC-42"], s)
            #expect(overridden.status == 0, "\(overridden)")
            #expect(try await s.status().currentRelease == "v1")
            let audit = try await Self.cli(["audit", "--json"], s)
            let entries = try SlipwayJSON.decoder().decode([AuditEntry].self, from: Data(audit.text.utf8))
            let override = try #require(entries.first { $0.action == "policy.override" }, "\(entries)")
            #expect(override.detail.contains("freeze: ") && override.detail.hasSuffix("reason: hotfix for INC-42") && override.target == "production/v1")
            #expect(entries.contains { $0.action == "deploy" && $0.outcome == "refused" && $0.detail.hasPrefix("freeze: ") })

            let intact = try await Self.cli(["audit", "verify"], s)
            #expect(intact.status == 0 && intact.text.contains("audit log intact"), "\(intact)")
            // Someone edits one entry in state.db: verify names it.
            let db = try DatabaseQueue(path: s.config.databasePath)
            try await db.write { try $0.execute(sql: "UPDATE audit SET detail = 'nothing to see' WHERE id = ?", arguments: [override.id]) }
            let broken = try await Self.cli(["audit", "verify"], s)
            #expect(broken.status == 1 && broken.text.contains("audit entry \(override.id) does not match"), "\(broken)")
        }
    }

    /// Promotion from staging with two approvals: never straight to production, never the requester's own
    /// approval, and once two others approved it deploys by itself.
    @Test(.timeLimit(.minutes(2)))
    func aPromotionWaitsForStagingAndTwoOtherApprovers() async throws {
        let stagingPort = try PortAllocator.freePort()
        let governance = """
            environments:
              staging: { router: { listen: "127.0.0.1:\(stagingPort)" } }
              production:
                promote_from: staging
                soak: SOAK
                approvals: { required: 2, roles: [approver], expire_after: 24h }
            """
        let s = try Sandbox(extra: governance.replacingOccurrences(of: "SOAK", with: "1h"))
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            let straight = try await Self.cli(["promote", "v1", "--to", "production"], s)
            #expect(straight.status == 3 && straight.text.contains("release v1 has not succeeded in 'staging' yet"), "\(straight)")
            #expect(try await Self.cli(["deploy", "v1", "--env", "staging"], s).status == 0)
            let early = try await Self.cli(["promote", "v1", "--to", "production"], s)
            #expect(early.status == 3 && early.text.contains("of 1h; ") && early.text.contains("m left"), "\(early)")
            // The soak is over (the config now asks for none): the request waits for approvals.
            let yaml = try String(contentsOfFile: s.dir + "/slipway.yml", encoding: .utf8).replacingOccurrences(of: "soak: 1h", with: "soak: 0s")
            try yaml.write(toFile: s.dir + "/slipway.yml", atomically: true, encoding: .utf8)
            let requested = try await Self.cli(["promote", "v1", "--to", "production", "--json"], s)
            #expect(requested.status == 0, "\(requested)")
            let answer = try JSONSerialization.jsonObject(with: Data(requested.text.utf8)) as? [String: String]
            #expect(answer?["state"] == "awaiting_approval", "\(requested.text)")
            let id = try #require(answer?["id"])
            // The requester (this OS user, on the admin socket) cannot approve their own request.
            let own = try await Self.cli(["approve", id], s)
            #expect(own.status == 3 && own.text.contains("cannot approve it"), "\(own)")
            let alice: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "alice", roles: [.approver], expires: nil))
            let bob: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "bob", roles: [.approver], expires: nil))
            let viewer: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "vic", roles: [.viewer], expires: nil))
            #expect(try await Self.cli(["approve", id, "--token", viewer.token], s).status == 3, "a viewer cannot approve")
            let first = try await Self.cli(["approve", id, "--token", alice.token, "--comment", "looks good"], s)
            #expect(first.status == 0 && first.text.contains("1 of 2 approval(s)"), "\(first)")
            let again = try await Self.cli(["approve", id, "--token", alice.token], s)
            #expect(again.text.contains("1 of 2 approval(s)"), "one person counts once: \(again)")
            #expect(try await Self.cli(["approve", id, "--token", bob.token], s).status == 0)
            let d = try await s.outcome(DeploymentInfo(id: Int64(id)!, environment: "production", version: "v1", previousVersion: nil, kind: .deploy,
                                                      strategy: .blueGreen, state: .awaitingApproval, actor: "", startedAt: Date(), logFile: ""))
            #expect(d.state == .succeeded, "\(d)")
            let audit: [AuditEntry] = try await s.client.get("/v1/audit?env=production")
            #expect(audit.filter { $0.action == "deploy.approve" && $0.outcome == "ok" }.map(\.actor).sorted() == ["alice", "alice", "bob"])
            #expect(audit.contains { $0.action == "deploy.approve" && $0.outcome == "refused" })
            // A rejection ends a request.
            _ = try await s.release("v2")
            #expect(try await Self.cli(["deploy", "v2", "--env", "staging"], s).status == 0)
            let second = try await Self.cli(["promote", "v2", "--to", "production", "--json"], s)
            let id2 = try #require((try JSONSerialization.jsonObject(with: Data(second.text.utf8)) as? [String: String])?["id"], "\(second)")
            #expect(try await Self.cli(["reject", id2, "--comment", "not during the sale", "--token", bob.token], s).status == 0)
            let history: [DeploymentInfo] = try await s.client.get("/v1/deployments?env=production")
            #expect(history.first { "\($0.id)" == id2 }?.state == .failed)
        }
    }
}

/// The API over TCP (`server.listen`, loopback): the same routes, a token required for every request.
@Suite(.serialized)
struct ServerListenerTests {
    @Test(.timeLimit(.minutes(2)))
    func aCIJobDrivesTheDaemonOverTCPWithAToken() async throws {
        let api = try PortAllocator.freePort()
        let s = try Sandbox(extra: "server: { listen: \"127.0.0.1:\(api)\" }")
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            let ci: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "ci", roles: [.deployer], expires: "1d"))
            let vic: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "vic", roles: [.viewer], expires: nil))
            let server = "http://127.0.0.1:\(api)"
            let anonymous = try await GovernanceIntegrationTests.cli(["status", "--server", server], s)
            #expect(anonymous.status == 3 && anonymous.text.contains("send a token"), "\(anonymous)")
            let viewer = try await GovernanceIntegrationTests.cli(["deploy", "v1", "--server", server, "--token", vic.token], s)
            #expect(viewer.status == 3 && viewer.text.contains("needs the deployer role"), "\(viewer)")
            let deployed = try await GovernanceIntegrationTests.cli(["deploy", "v1", "--server", server, "--token", ci.token], s)
            #expect(deployed.status == 0 && deployed.text.contains("✓ v1 is serving production"), "\(deployed)")
            let history: [DeploymentInfo] = try await s.client.get("/v1/deployments")
            #expect(history.first?.actor == "ci", "the token's user is the actor")
            #expect(!deployed.text.contains(ci.token) && !viewer.text.contains(vic.token), "a token was printed")
            // Guessing tokens: after ten failures from one address (the anonymous request above was the first)
            // it is held off, even with a good token.
            for _ in 0..<9 {
                let r = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/v1/status",
                                                           headers: [("Authorization", "Bearer slw_guess")], timeout: .seconds(5))
                #expect(r.status == 401)
            }
            let held = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/v1/status",
                                                          headers: [("Authorization", "Bearer \(ci.token)")], timeout: .seconds(5))
            #expect(held.status == 429 && held.bodyText.contains("too many failed authentications from 127.0.0.1"), "\(held.status) \(held.bodyText)")
            #expect(try await s.status().currentRelease == "v1", "the admin socket is not held")
        }
    }

    @Test func theListenerIsLoopbackOnlyUntilTLS() {
        do {
            _ = try ConfigLoader.parse(yaml: "app: shop\nprocess: { command: x }\nserver: { listen: \"0.0.0.0:7443\" }\n", file: "slipway.yml", directory: "/tmp")
            Issue.record("a non-loopback listener without TLS was accepted")
        } catch {
            #expect(error.description.contains("slipway.yml:3:19: server.listen: 0.0.0.0:7443 is not a loopback address"), "\(error.description)")
        }
    }
}
