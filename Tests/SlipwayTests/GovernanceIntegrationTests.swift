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
    @Test(.timeLimit(.minutes(2)))
    func aFreezeRefusesAnAdminOverridesWithAReasonAndTheAuditLogProvesIt() async throws {
        // A freeze that always holds: it starts every minute and lasts ten.
        let s = try Sandbox(extra: "freezes: [{ name: always, cron: \"* * * * *\", duration: 10m, timezone: Europe/Berlin }]")
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            let refused = try await s.cli(["deploy", "v1"])
            #expect(refused.status == 3 && refused.text.contains("'production' is frozen (always) until "), "\(refused)")
            let gates = try await s.cli(["gates", "v1"])
            #expect(gates.status == 3 && gates.text.contains("BLOCK freeze: 'production' is frozen (always)") && gates.text.contains("pass  lock"), "\(gates)")
            let noReason = try await s.cli(["deploy", "v1", "--override-window"])
            #expect(noReason.status == 2 && noReason.text.contains("--override-window needs --reason"), "\(noReason)")
            let overridden = try await s.cli(["deploy", "v1", "--override-window", "--reason", "hotfix for INC-42"])
            #expect(overridden.status == 0, "\(overridden)")
            #expect(try await s.status().currentRelease == "v1")
            let audit = try await s.cli(["audit", "--json"])
            let entries = try SlipwayJSON.decoder().decode([AuditEntry].self, from: Data(audit.text.utf8))
            let override = try #require(entries.first { $0.action == "policy.override" }, "\(entries)")
            #expect(override.detail.contains("freeze: ") && override.detail.hasSuffix("reason: hotfix for INC-42") && override.target == "production/v1")
            #expect(entries.contains { $0.action == "deploy" && $0.outcome == "refused" && $0.detail.hasPrefix("freeze: ") })

            let intact = try await s.cli(["audit", "verify"])
            #expect(intact.status == 0 && intact.text.contains("audit log intact"), "\(intact)")
            // Someone edits one entry in state.db: verify names it.
            let db = try DatabaseQueue(path: s.config.databasePath)
            try await db.write { try $0.execute(sql: "UPDATE audit SET detail = 'nothing to see' WHERE id = ?", arguments: [override.id]) }
            let broken = try await s.cli(["audit", "verify"])
            #expect(broken.status == 1 && broken.text.contains("audit entry \(override.id) does not match"), "\(broken)")
            // The request's origin is part of the entry: changing where it came from breaks the chain too.
            try await db.write { try $0.execute(sql: "UPDATE audit SET detail = ? WHERE id = ?", arguments: [override.detail, override.id]) }
            #expect(try await s.cli(["audit", "verify"]).status == 0, "restored")
            #expect(override.source == "socket" && override.role == "admin" && override.requestId != nil, "\(override)")
            try await db.write { try $0.execute(sql: "UPDATE audit SET source = '10.0.0.9' WHERE id = ?", arguments: [override.id]) }
            let moved = try await s.cli(["audit", "verify"])
            #expect(moved.status == 1 && moved.text.contains("audit entry \(override.id) does not match"), "\(moved)")
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
            let straight = try await s.cli(["promote", "v1", "--to", "production"])
            #expect(straight.status == 3 && straight.text.contains("release v1 has not succeeded in 'staging' yet"), "\(straight)")
            #expect(try await s.cli(["deploy", "v1", "--env", "staging"]).status == 0)
            let early = try await s.cli(["promote", "v1", "--to", "production"])
            #expect(early.status == 3 && early.text.contains("of 1h; ") && early.text.contains("m left"), "\(early)")
            // The soak is over (the config now asks for none): the request waits for approvals.
            let yaml = try String(contentsOfFile: s.dir + "/slipway.yml", encoding: .utf8).replacingOccurrences(of: "soak: 1h", with: "soak: 0s")
            try yaml.write(toFile: s.dir + "/slipway.yml", atomically: true, encoding: .utf8)
            let requested = try await s.cli(["promote", "v1", "--to", "production", "--json"])
            #expect(requested.status == 0, "\(requested)")
            let answer = try JSONSerialization.jsonObject(with: Data(requested.text.utf8)) as? [String: String]
            #expect(answer?["state"] == "awaiting_approval", "\(requested.text)")
            let id = try #require(answer?["id"])
            // The requester (this OS user, on the admin socket) cannot approve their own request.
            let own = try await s.cli(["approve", id])
            #expect(own.status == 3 && own.text.contains("cannot approve it"), "\(own)")
            let alice: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "alice", roles: [.approver], expires: nil))
            let bob: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "bob", roles: [.approver], expires: nil))
            let viewer: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "vic", roles: [.viewer], expires: nil))
            #expect(try await s.cli(["approve", id, "--token", viewer.token]).status == 3, "a viewer cannot approve")
            let first = try await s.cli(["approve", id, "--token", alice.token, "--comment", "looks good"])
            #expect(first.status == 0 && first.text.contains("1 of 2 approval(s)"), "\(first)")
            let again = try await s.cli(["approve", id, "--token", alice.token])
            #expect(again.text.contains("1 of 2 approval(s)"), "one person counts once: \(again)")
            #expect(try await s.cli(["approve", id, "--token", bob.token]).status == 0)
            let d = try await s.outcome(DeploymentInfo(id: Int64(id)!, environment: "production", version: "v1", previousVersion: nil, kind: .deploy,
                                                      strategy: .blueGreen, state: .awaitingApproval, actor: "", startedAt: Date(), logFile: ""))
            #expect(d.state == .succeeded, "\(d)")
            let audit: [AuditEntry] = try await s.client.get("/v1/audit?env=production")
            #expect(audit.filter { $0.action == "deploy.approve" && $0.outcome == "ok" }.map(\.actor).sorted() == ["alice", "alice", "bob"])
            #expect(audit.contains { $0.action == "deploy.approve" && $0.outcome == "refused" })
            // A rejection ends a request.
            _ = try await s.release("v2")
            #expect(try await s.cli(["deploy", "v2", "--env", "staging"]).status == 0)
            let second = try await s.cli(["promote", "v2", "--to", "production", "--json"])
            let id2 = try #require((try JSONSerialization.jsonObject(with: Data(second.text.utf8)) as? [String: String])?["id"], "\(second)")
            #expect(try await s.cli(["reject", id2, "--comment", "not during the sale", "--token", bob.token]).status == 0)
            let history: [DeploymentInfo] = try await s.client.get("/v1/deployments?env=production")
            #expect(history.first { "\($0.id)" == id2 }?.state == .failed)
        }
    }
}

/// The API over TCP (`server.listen`, loopback or TLS): the same routes, a token required for every request.
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
            let anonymous = try await s.cli(["status", "--server", server])
            #expect(anonymous.status == 3 && anonymous.text.contains("send a token"), "\(anonymous)")
            let viewer = try await s.cli(["deploy", "v1", "--server", server, "--token", vic.token])
            #expect(viewer.status == 3 && viewer.text.contains("needs the deployer role"), "\(viewer)")
            let deployed = try await s.cli(["deploy", "v1", "--server", server, "--token", ci.token])
            #expect(deployed.status == 0 && deployed.text.contains("✓ v1 is serving production"), "\(deployed)")
            let history: [DeploymentInfo] = try await s.client.get("/v1/deployments")
            #expect(history.first?.actor == "ci", "the token's user is the actor")
            // The audit log says with which role, from where, in which request, and what changed.
            let asked = try await MiniHTTPClient().request("POST", .tcp(host: "127.0.0.1", port: api), path: "/v1/scale",
                                                           headers: [("Authorization", "Bearer \(ci.token)"), ("X-Request-Id", "ci-run-42"), ("Content-Type", "application/json")],
                                                           body: Array("{\"instances\": 3, \"actor\": \"\"}".utf8), timeout: .seconds(30))
            #expect(asked.status == 200 && asked.header("X-Request-Id") == "ci-run-42", "\(asked.status) \(asked.bodyText)")
            let bad = try await MiniHTTPClient().request("POST", .tcp(host: "127.0.0.1", port: api), path: "/v1/scale",
                                                         headers: [("Authorization", "Bearer \(ci.token)"), ("Content-Type", "application/json")],
                                                         body: Array("{\"instances\": 99, \"actor\": \"\"}".utf8), timeout: .seconds(30))
            #expect(bad.status == 400 && (bad.header("X-Request-Id")?.count ?? 0) == 32, "an error answer names its request too: \(bad.headers)")
            let audit: [AuditEntry] = try await s.client.get("/v1/audit?limit=50")
            let scaled = try #require(audit.first { $0.action == "scale" }, "\(audit)")
            #expect(scaled.actor == "ci" && scaled.role == "deployer" && scaled.source == "127.0.0.1" && scaled.requestId == "ci-run-42"
                    && scaled.before == "2 instance(s)" && scaled.after == "3 instance(s)", "\(scaled)")
            let finished = try #require(audit.first { $0.action == "deploy" && $0.outcome == "succeeded" }, "\(audit)")
            #expect(finished.role == "deployer" && finished.source == "127.0.0.1" && finished.requestId != nil
                    && finished.before == "-" && finished.after == "v1", "the deployment's end names the request that started it: \(finished)")
            let local = try #require(audit.first { $0.action == "token.create" })
            #expect(local.source == "socket" && local.role == "admin", "\(local)")
            let verified: AuditVerification = try await s.client.get("/v1/audit/verify")
            #expect(verified.ok, "the new fields are part of the chain: \(verified)")
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

    @Test(.timeLimit(.minutes(2)))
    func theCLIDrivesADaemonOverTLSWithAToken() async throws {
        let dir = NSTemporaryDirectory() + "slipway-tls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let certs = try TestCertificates(in: dir), rogue = try TestCertificates(in: dir, name: "rogue")
        let api = try PortAllocator.freePort()
        // Off loopback, which TLS allows.
        let s = try Sandbox(extra: "server: { listen: \"0.0.0.0:\(api)\", tls: { cert: \(certs.certFile), key: \(certs.keyFile) } }")
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            let ci: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "ci", roles: [.deployer], expires: "1d"))
            let server = "https://127.0.0.1:\(api)"
            let deployed = try await s.cli(["deploy", "v1", "--server", server, "--ca", certs.caFile, "--token", ci.token])
            #expect(deployed.status == 0 && deployed.text.contains("✓ v1 is serving production"), "\(deployed)")
            // By name (SNI), everything from the environment as a CI job would set it, with no slipway.yml at hand.
            let byName = try await s.cli(["status", "--json"], environment: [
                "SLIPWAY_SERVER": "https://localhost:\(api)", "SLIPWAY_CA": certs.caFile, "SLIPWAY_TOKEN": ci.token], withConfig: false)
            #expect(byName.status == 0 && byName.text.contains("\"current_release\" : \"v1\""), "\(byName)")
            // A certificate the client does not trust: the handshake fails before the token is sent.
            let untrusted = try await s.cli(["status", "--server", server, "--ca", rogue.caFile, "--token", ci.token])
            #expect(untrusted.status == 1 && untrusted.text.contains("cannot reach the slipway daemon at \(server)")
                    && untrusted.text.contains("CERTIFICATE_VERIFY_FAILED"), "\(untrusted)")
            let plain = try await s.cli(["status", "--server", "http://127.0.0.1:\(api)", "--token", ci.token])
            #expect(plain.status == 1, "plain HTTP to the TLS listener: \(plain)")
            #expect(![deployed, byName, untrusted, plain].contains { $0.text.contains(ci.token) }, "a token was printed")
            let history: [DeploymentInfo] = try await s.client.get("/v1/deployments")
            #expect(history.first?.actor == "ci")
        }
    }

    @Test func aListenerOffLoopbackNeedsTLS() throws {
        do {
            _ = try ConfigLoader.parse(yaml: "app: shop\nprocess: { command: x }\nserver: { listen: \"0.0.0.0:7443\" }\n", file: "slipway.yml", directory: "/tmp")
            Issue.record("a non-loopback listener without TLS was accepted")
        } catch {
            #expect(error.description.contains("slipway.yml:3:19: server.listen: 0.0.0.0:7443 is not a loopback address"), "\(error.description)")
            #expect(error.description.contains("add server.tls"), "\(error.description)")
        }
        do {
            _ = try ConfigLoader.parse(yaml: "app: shop\nprocess: { command: x }\nserver: { listen: \"0.0.0.0:7443\", tls: { cert: nope.pem } }\n",
                                       file: "slipway.yml", directory: "/tmp")
            Issue.record("a TLS section without a readable certificate and key was accepted")
        } catch {
            #expect(error.description.contains("server.tls.cert: cannot read /tmp/nope.pem"), "\(error.description)")
            #expect(error.description.contains("server.tls.key: missing required key"), "\(error.description)")
        }
    }
}
