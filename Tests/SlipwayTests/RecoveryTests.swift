import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import Testing

/// `kill -9` of the daemon mid-deploy: traffic keeps flowing, and the next start rolls the deployment back.
@Suite(.serialized)
struct RecoveryTests {
    func startDaemon(_ s: Sandbox) async throws -> ProcessSpawner.Spawned {
        let child = try ProcessSpawner.spawn(argv: [TestBinaries.slipway, "server", "--config", s.dir + "/slipway.yml", "--log-level", "warning"],
                                             directory: s.dir, environment: ProcessInfo.processInfo.environment, logFile: s.dir + "/daemon.log")
        try await s.waitForDaemon()
        return child
    }

    @Test(.timeLimit(.minutes(3)))
    func killDashNineMidDeployRecoversToOneConsistentRelease() async throws {
        let s = try Sandbox(deadline: "60s")
        defer { s.removeFiles() }
        var daemon = try await startDaemon(s)
        defer { kill(daemon.pid, SIGKILL) }
        _ = try await s.release("v1")
        _ = try await s.release("slow", ready: false)  // sits in `verifying` until its deadline
        #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
        let v1Pids = Set(try await s.status().instances.map(\.pid))

        let load = LoadLoop(port: s.port)
        load.start(concurrency: 2, maxDuration: .seconds(90))
        let d = try await s.deploy("slow")
        _ = try await poll(within: .seconds(10)) {
            let p: DeploymentProgress = try await s.client.get("/v1/deployments/\(d.id)")
            return p.deployment.state == .verifying ? true : nil
        }
        kill(daemon.pid, SIGKILL)
        _ = ProcessInspector.isAlive(pid: daemon.pid, startTime: daemon.startTime)  // reap
        // The daemon is dead; the router and the instances keep serving.
        let before = load.summary.requests
        _ = try await poll(within: .seconds(10)) { load.summary.requests > before + 100 ? true : nil }
        #expect(try await SlipwayHTTPProbe.get(port: s.port).hasPrefix("200 hello from demo-app v1"))

        daemon = try await startDaemon(s)
        let ended = try await s.outcome(d, within: .seconds(30))
        #expect(ended.state == .rolledBack)
        #expect(ended.message?.contains("interrupted by a daemon restart") == true)
        let status = try await s.status()
        #expect(status.currentRelease == "v1")
        #expect(Set(status.instances.map(\.pid)) == v1Pids)  // re-adopted, not restarted
        #expect(status.lock == nil)
        let summary = await load.stop()
        #expect(summary.failures == 0, "\(summary)")
        #expect(summary.byRelease.keys.sorted() == ["v1"])
        await s.tearDown()
    }
}
