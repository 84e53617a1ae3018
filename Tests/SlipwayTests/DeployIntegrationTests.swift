import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayEngine
import SlipwayRuntime
@testable import SlipwayRouter
import SlipwayServer
import Testing

/// The real thing: a daemon, the `slipway router` process, `demo-app` instances, traffic through the router.
@Suite(.serialized)
struct DeployIntegrationTests {
    func withDaemon(_ sandbox: Sandbox, _ body: (Daemon) async throws -> Void) async throws {
        let daemon = try Daemon(config: sandbox.config, routerExecutable: TestBinaries.slipway, logger: quietLogger(), handleSignals: false, cadence: .brisk)
        let run = Task { try await daemon.run() }
        defer { sandbox.removeFiles() }
        do {
            try await sandbox.waitForDaemon()
            try await body(daemon)
        } catch {
            await sandbox.tearDown()
            await daemon.shutdown()
            _ = try? await run.value
            throw error
        }
        await sandbox.tearDown()
        await daemon.shutdown()
        _ = try? await run.value
    }

    @Test(.timeLimit(.minutes(3)))
    func blueGreenUnderLoadRefusalRollbackAndLock() async throws {
        let s = try Sandbox()
        try await withDaemon(s) { _ in
            for v in ["v1", "v2"] { _ = try await s.release(v) }
            _ = try await s.release("v3", ready: false)
            // Same version, different content: refused.
            let src = s.dir + "/src-v1"
            try "{\"ready\": false}".write(toFile: src + "/demo-app.json", atomically: true, encoding: .utf8)
            await #expect(throws: SlipwayError.self) { _ = try await s.client.post("/v1/releases", ReleaseCreateRequest(version: "v1", from: src, actor: "t"), as: ReleaseInfo.self) }

            let d1 = try await s.outcome(try await s.deploy("v1"))
            #expect(d1.state == .succeeded)
            #expect(try await s.get().hasPrefix("200 hello from demo-app v1"))
            let v1Pids = Set(try await s.status().instances.filter { $0.release == "v1" }.map(\.pid))
            #expect(v1Pids.count == 2)

            let load = LoadLoop(port: s.port)
            load.start(concurrency: 4, maxDuration: .seconds(60))
            _ = try await poll(within: .seconds(5)) { load.summary.requests > 50 ? true : nil }

            // A second deploy while one runs is refused by policy (exit 3), naming the holder.
            let d2 = try await s.deploy("v2")
            do {
                _ = try await s.deploy("v2")
                Issue.record("concurrent deploy was not refused")
            } catch let e as SlipwayError {
                #expect(e.code == .policy && e.message.contains("deployment \(d2.id)"))
            }
            #expect(try await s.outcome(d2).state == .succeeded)
            _ = try await poll(within: .seconds(5)) { (load.summary.byRelease["v2"] ?? 0) > 20 ? true : nil }

            // Never ready: refused, v2 never stopped serving.
            let d3 = try await s.outcome(try await s.deploy("v3"))
            #expect(d3.state == .failed)
            #expect(d3.message?.contains("503 Service Unavailable") == true)
            #expect(d3.message?.contains("log tail") == true)
            #expect(try await s.get().hasPrefix("200 hello from demo-app v2"))
            #expect(try await s.status().instances.allSatisfy { $0.release != "v3" })

            // Rollback to the previous release: its instances were kept warm, so they are reused.
            let v1Before = load.summary.byRelease["v1"] ?? 0
            let r = try await s.outcome(try await s.deploy(nil, kind: .rollback))
            #expect(r.state == .succeeded && r.version == "v1" && r.kind == .rollback)
            let after = try await s.status()
            #expect(after.currentRelease == "v1")
            #expect(Set(after.instances.filter { $0.release == "v1" && $0.state == .running }.map(\.pid)) == v1Pids)
            // The load reaches v1 again after the rollback (it served v1 before, so count from here).
            _ = try await poll(within: .seconds(5)) { (load.summary.byRelease["v1"] ?? 0) > v1Before + 20 ? true : nil }
            let summary = await load.stop()
            #expect(summary.failures == 0, "\(summary)")

            let history: [DeploymentInfo] = try await s.client.get("/v1/deployments")
            #expect(history.map(\.state) == [.succeeded, .failed, .succeeded, .succeeded])
            #expect(FileManager.default.fileExists(atPath: history[0].logFile))
            let audit: [AuditEntry] = try await s.client.get("/v1/audit")
            #expect(audit.contains { $0.action == "deploy" && $0.outcome == "refused" })
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func recreateWithANeverReadyReleaseRestartsTheOldOne() async throws {
        let s = try Sandbox(strategy: "recreate", deadline: "4s")
        try await withDaemon(s) { _ in
            _ = try await s.release("v1")
            _ = try await s.release("bad", ready: false)
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let d = try await s.outcome(try await s.deploy("bad"))
            #expect(d.state == .rolledBack)
            let status = try await s.status()
            #expect(status.currentRelease == "v1")
            _ = try await poll(within: .seconds(5)) { (try? await s.get())?.hasPrefix("200 hello from demo-app v1") == true ? true : nil }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func crashedInstanceIsRestartedAndScaleWorks() async throws {
        let s = try Sandbox()
        try await withDaemon(s) { _ in
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let victim = try #require(try await s.status().instances.first)
            kill(victim.pid, SIGKILL)
            let restarted = try await poll(within: .seconds(10)) {
                try await s.status().instances.first { $0.slot == victim.slot && $0.release == "v1" && $0.pid != victim.pid && $0.ready }
            }
            #expect(restarted.restarts == 1)
            let scaled: EnvironmentStatus = try await s.client.post("/v1/scale", ScaleRequest(environment: nil, instances: 3, actor: "t"))
            #expect(scaled.instances.filter { $0.state == .running && $0.ready }.count == 3)
            let down: EnvironmentStatus = try await s.client.post("/v1/scale", ScaleRequest(environment: nil, instances: 1, actor: "t"))
            #expect(down.instances.count == 1)
            #expect(try await s.get().hasPrefix("200"))
        }
    }

    /// Another program holds the router's address: the deploy rolls back, nothing is left running, and the
    /// deployment says which address and which key, in words (not the router's JSON).
    @Test(.timeLimit(.minutes(1)))
    func aRouterAddressAnotherProgramHoldsRollsTheDeployBackAndSaysWhichKey() async throws {
        let s = try Sandbox()
        let held = try ListenSocket.open(ListenAddress(host: "127.0.0.1", port: s.port))
        defer { close(held) }
        try await withDaemon(s) { _ in
            _ = try await s.release("v1")
            let d = try await s.outcome(try await s.deploy("v1"))
            let message = d.message ?? ""
            #expect(d.state == .rolledBack, "\(d)")
            #expect(message.contains("the router cannot listen on 127.0.0.1:\(s.port) for 'production'; free the address or change router.listen")
                    && !message.contains("{"), "\(message)")
            #expect(try await s.status().instances.isEmpty)
        }
    }
}
