import Foundation
import SlipwayClient
import SlipwayCore
import Testing

/// `strategy: rolling`: instances replaced a batch at a time under load, the old and new release serving
/// side by side in between; a batch that is not ready puts the old release back.
@Suite(.serialized)
struct RollingTests {
    static let config = """
        rolling: { batch: 1, max_surge: 1 }
        """

    @Test(.timeLimit(.minutes(2)))
    func aRollingDeployReplacesOneInstanceAtATimeWithoutAFailedRequest() async throws {
        let s = try Sandbox(strategy: "rolling", extra: Self.config)
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            _ = try await s.release("v2", readyAfterMs: 300)
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let load = LoadLoop(port: s.port)
            load.start(concurrency: 4, maxDuration: .seconds(60))
            _ = try await poll(within: .seconds(5)) { load.summary.requests > 50 ? true : nil }
            let d = try await s.outcome(try await s.deploy("v2"))
            #expect(d.state == .succeeded, "\(d)")
            let v2Before = load.summary.byRelease["v2"] ?? 0
            _ = try await poll(within: .seconds(5)) { (load.summary.byRelease["v2"] ?? 0) > v2Before + 20 ? true : nil }
            let summary = await load.stop()
            #expect(summary.failures == 0, "\(summary)")
            let status = try await s.status()
            #expect(status.currentRelease == "v2" && status.previousRelease == "v1")
            #expect(status.instances.filter { $0.state == .running }.map(\.release) == ["v2", "v2"])
            // One at a time: each v1 instance stopped only after one more v2 instance was serving.
            let progress: DeploymentProgress = try await s.client.get("/v1/deployments/\(d.id)?after=0")
            let details = progress.events.map(\.detail)
            let firstBatch = try #require(details.firstIndex { $0.hasPrefix("batch 1: 1 of 2 instance(s) of v2 serving beside 2 of v1") }, "\(details)")
            let firstStop = try #require(details.firstIndex { $0.hasPrefix("stopped v1-") })
            let secondBatch = try #require(details.firstIndex { $0.hasPrefix("batch 2: 2 of 2 instance(s) of v2 serving beside 1 of v1") })
            #expect(firstBatch < firstStop && firstStop < secondBatch)
        }
    }

    /// Without room to surge, an old instance stops before its replacement starts: capacity never drops
    /// below `instances - batch`, and requests still never fail.
    @Test(.timeLimit(.minutes(2)))
    func withoutSurgeTheOldInstanceGoesFirst() async throws {
        let s = try Sandbox(strategy: "rolling", extra: "rolling: { batch: 1, max_surge: 0 }")
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            _ = try await s.release("v2")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let load = LoadLoop(port: s.port)
            load.start(concurrency: 2, maxDuration: .seconds(60))
            let d = try await s.outcome(try await s.deploy("v2"))
            #expect(d.state == .succeeded, "\(d)")
            let summary = await load.stop()
            #expect(summary.failures == 0, "\(summary)")
            let progress: DeploymentProgress = try await s.client.get("/v1/deployments/\(d.id)?after=0")
            let details = progress.events.map(\.detail)
            let firstStop = try #require(details.firstIndex { $0.hasPrefix("stopped v1-") }, "\(details)")
            let firstStart = try #require(details.firstIndex { $0.hasPrefix("batch 1: started") })
            #expect(firstStop < firstStart)
            #expect(details.contains { $0.hasPrefix("batch 1: 1 of 2 instance(s) of v2 serving beside 1 of v1") })
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func aBatchThatIsNotReadyPutsTheOldReleaseBack() async throws {
        let s = try Sandbox(strategy: "rolling", deadline: "2s", extra: Self.config)
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            _ = try await s.release("v2", ready: false)
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let load = LoadLoop(port: s.port)
            load.start(concurrency: 2, maxDuration: .seconds(60))
            let d = try await s.outcome(try await s.deploy("v2"))
            #expect(d.state == .rolledBack, "\(d)")
            #expect(d.message?.contains("batch 1 of v2 was not ready") == true, "\(d.message ?? "")")
            let summary = await load.stop()
            #expect(summary.failures == 0, "\(summary)")
            let status = try await s.status()
            #expect(status.currentRelease == "v1")
            #expect(status.instances.filter { $0.release == "v1" && $0.state == .running && $0.ready }.count == 2)
            #expect(!status.instances.contains { $0.release == "v2" })
            #expect(try await s.get().hasPrefix("200 hello from demo-app v1"))
        }
    }
}
