import Foundation
import GRDB
import Hummingbird
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import Testing
@testable import SlipwayEngine
@testable import SlipwayServer
@testable import SlipwayStore

/// The second half's defects through the interfaces a user touches: `slipway check`, the API, a provider over TLS.
@Suite(.serialized)
struct HardeningIntegrationTests {
    /// `slipway check` judges secrets where they are used: with a daemon running, it asks the daemon (which has
    /// the secret in its own environment); without one it says it judged by this shell.
    @Test(.timeLimit(.minutes(1)))
    func checkAsksTheRunningDaemonWhereItFindsSecrets() async throws {
        let s = try Sandbox()
        let yaml = try String(contentsOfFile: s.dir + "/slipway.yml", encoding: .utf8)
        try yaml.replacingOccurrences(of: "  stop_timeout: 3s", with: "  stop_timeout: 3s\n  secrets: [SHOP_API_KEY]")
            .write(toFile: s.dir + "/slipway.yml", atomically: true, encoding: .utf8)
        let version = try await s.cli(["--version"], withConfig: false)
        #expect(version.status == 0 && version.text == "slipway \(SlipwayVersion.current)\n", "\(version)")
        let alone = try await s.cli(["check"])
        #expect(alone.status == 0 && alone.text.contains("secret SHOP_API_KEY: NOT SET")
                && alone.text.contains("secrets as this shell (no daemon runs for this root"), "\(alone.text)")

        var environment = ProcessInfo.processInfo.environment
        environment["SHOP_API_KEY"] = "sk-live-only-the-daemon-has-it"
        try await s.withSpawnedDaemon(environment: environment) { _ in
            let asked = try await s.cli(["check"])
            #expect(asked.status == 0 && asked.text.contains("secrets as the running daemon (\(s.config.socketPath))")
                    && asked.text.contains("secret SHOP_API_KEY: from the daemon's environment"), "\(asked.text)")
            #expect(!asked.text.contains("sk-live"), "names and sources only")
        }
    }

    /// A deploy awaiting approval survives a daemon restart and deploys once approved after it; `gates` lists what
    /// it waits for; `promote --wait` ends with the deployment's outcome as its exit code (0 deployed, 1 rejected).
    @Test(.timeLimit(.minutes(2)))
    func anApprovalOutlivesARestartAndPromoteWaitEndsWithTheOutcome() async throws {
        let s = try Sandbox(extra: """
            environments:
              production:
                approvals: { required: 1, roles: [approver], expire_after: 24h }
            """)
        try await s.withSpawnedDaemon { restart in
            _ = try await s.release("v1")
            _ = try await s.release("v2")
            let requested = try await s.cli(["promote", "v1", "--to", "production", "--json"])
            let id = try #require((try JSONSerialization.jsonObject(with: Data(requested.text.utf8)) as? [String: String])?["id"], "\(requested)")
            try await restart()
            let waiting: ApprovalStatus = try await s.client.get("/v1/approvals/\(id)")
            #expect(waiting.deployment.state == .awaitingApproval && waiting.counting == 0, "\(waiting)")
            let gates = try await s.cli(["gates", "v1"])
            #expect(gates.status == 0 && gates.text.contains("pass  approvals: a deploy waits for 1 approval(s) from approver")
                    && gates.text.contains("deployment \(id) has 0"), "\(gates.text)")
            let alice: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "alice", roles: [.approver], expires: nil))
            #expect(try await s.cli(["approve", id, "--token", alice.token]).status == 0)
            let lock = try await poll(within: .seconds(20)) { () async throws -> Bool? in
                let p: DeploymentProgress = try await s.client.get("/v1/deployments/\(id)?after=\(Int64.max)")
                return p.deployment.state.isTerminal ? (p.deployment.state == .succeeded) : nil
            }
            #expect(lock, "the approved deploy ran after the restart")
            #expect(try await s.status().currentRelease == "v1")

            // `promote --wait` follows the request to its end: 0 once approved and deployed, 1 when rejected.
            func promoteWaiting(_ version: String) -> Task<Int32, any Error> {
                Task { try await ProcessSpawner.run(argv: [TestBinaries.slipway, "promote", version, "--to", "production", "--wait", "--config", s.dir + "/slipway.yml"],
                                                    directory: s.dir, environment: ProcessInfo.processInfo.environment, logFile: s.dir + "/promote-\(version).out") }
            }
            func awaiting(_ version: String) async throws -> Int64 {
                try await poll(within: .seconds(20)) { () async throws -> Int64? in
                    let history: [DeploymentInfo] = try await s.client.get("/v1/deployments")
                    return history.first { $0.version == version && $0.state == .awaitingApproval }?.id
                }
            }
            let approved = promoteWaiting("v2")
            #expect(try await s.cli(["approve", "\(try await awaiting("v2"))", "--token", alice.token]).status == 0)
            #expect(try await approved.value == 0)
            let rejected = promoteWaiting("v1")
            #expect(try await s.cli(["reject", "\(try await awaiting("v1"))", "--comment", "not now", "--token", alice.token]).status == 0)
            #expect(try await rejected.value == 1)
            #expect(try await s.status().currentRelease == "v2")
        }
    }

    /// A change whose audit entry cannot be written is not made: `slipway maintenance on` fails (exit 1) and
    /// says so, nothing changed, the failure is counted in /metrics; once the store writes again it works.
    @Test(.timeLimit(.minutes(1)))
    func aChangeThatCannotBeAuditedIsNotMade() async throws {
        let s = try Sandbox()
        try await s.withDaemon { daemon in
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let store = daemon.engine.store
            try await store.db.write { db in try db.execute(sql: "CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk full'); END") }
            let refused = try await s.cli(["maintenance", "on"])
            #expect(refused.status == 1 && refused.text.contains("cannot record maintenance.on on production with its audit entry; nothing changed"),
                    "\(refused)")
            #expect(try await s.status().maintenance == nil, "not in maintenance without an audit entry")
            #expect(try await SlipwayHTTPProbe.get(port: s.port).hasPrefix("200"), "still serving")
            #expect(await daemon.engine.reports.metricsText().contains("slipway_store_write_failures_total 1"))
            try await store.db.write { db in try db.execute(sql: "DROP TRIGGER no_audit") }
            #expect(try await s.cli(["maintenance", "on"]).status == 0)
            #expect(try await s.status().maintenance?.mode == .on)
        }
    }

    /// A provider behind TLS (Prometheus's usual place): read over https with a private CA, refused without it,
    /// and `slipway check` says how the certificate is verified.
    @Test(.timeLimit(.minutes(1)))
    func aProviderIsReadOverHTTPSWithItsCA() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tls-provider-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let certs = try TestCertificates(in: dir, name: "prometheus")
        let router = Router()
        router.get("/api/v1/query") { request, _ -> Response in
            let query = request.uri.queryParameters.get("query") ?? ""
            let body = #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1800000000,"\#(query == "up" ? "7" : "0")"]}]}}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        let ports = AsyncStream<Int>.makeStream()
        let app = Application(router: router, server: try Daemon.httpsServer(TLSFiles(cert: certs.certFile, key: certs.keyFile)),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { ports.continuation.yield($0.localAddress?.port ?? 0) }, logger: quietLogger())
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        try await stopping([server]) {
            var it = ports.stream.makeAsyncIterator()
            let port = try #require(await it.next())
            let url = try #require(HTTPURL("https://127.0.0.1:\(port)"))
            var provider = ProviderSettings(source: .prometheus(url: url, query: "up"), failIf: try RuleParser.parse("value > 10"), ca: certs.caFile)
            let read = await MetricProviders.readProvider(provider, timeout: .seconds(5))
            #expect(read.value == 7 && read.error == nil, "\(read)")
            provider.ca = nil
            let untrusted = await MetricProviders.readProvider(provider, timeout: .seconds(5))
            #expect(untrusted.value == nil && untrusted.error != nil, "a private CA's certificate is not trusted by the system's roots: \(untrusted)")

            let s = try Sandbox(extra: """
                analysis:
                  providers:
                    - { prometheus: { url: "https://127.0.0.1:\(port)", query: up, ca: \(certs.caFile) }, fail_if: "value > 10" }
                """)
            defer { s.removeFiles() }
            let check = try await s.cli(["check"])
            #expect(check.status == 0 && check.text.contains("provider prometheus up: HTTPS, certificate verified with the CA in \(certs.caFile)"),
                    "\(check.text)")
        }
    }
}
