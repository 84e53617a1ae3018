import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import Testing

/// The post-deploy watch: after a switch the previous release stays warm and the new one is judged.
@Suite(.serialized)
struct WatchTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aBurstOfErrorsInOneIntervalFails() {
        var judge = WatchJudge(analysis: nil)
        #expect(judge.observe(WatchSample(requests: 100, errors: 0, restarts: 0, ready: 2, instances: 2), at: Self.t0) == nil)
        #expect(judge.observe(WatchSample(requests: 119, errors: 15, restarts: 0, ready: 2, instances: 2), at: Self.t0 + 1) == nil,
                "19 requests are too few to call it a burst")
        let verdict = judge.observe(WatchSample(requests: 140, errors: 26, restarts: 0, ready: 2, instances: 2), at: Self.t0 + 2)
        #expect(verdict == "a burst of errors: 11 of 21 requests failed in one interval")
    }

    @Test func aCrashLoopOrNoReadyInstanceFails() {
        var crash = WatchJudge(analysis: nil)
        #expect(crash.observe(WatchSample(requests: 0, errors: 0, restarts: 3, ready: 2, instances: 2), at: Self.t0) == nil, "restarts before the switch")
        #expect(crash.observe(WatchSample(requests: 0, errors: 0, restarts: 4, ready: 2, instances: 2), at: Self.t0 + 1) == nil)
        #expect(crash.observe(WatchSample(requests: 0, errors: 0, restarts: 5, ready: 2, instances: 2), at: Self.t0 + 2)
            == "a crash loop: 2 restarts since the switch")
        var unready = WatchJudge(analysis: nil)
        for i in 0..<2 { #expect(unready.observe(WatchSample(requests: 0, errors: 0, restarts: 0, ready: 0, instances: 2), at: Self.t0 + Double(i)) == nil) }
        #expect(unready.observe(WatchSample(requests: 0, errors: 0, restarts: 0, ready: 0, instances: 2), at: Self.t0 + 2)
            == "no instance has been ready for 3 intervals")
    }

    @Test func analysisRulesJudgeTheWindow() throws {
        var judge = WatchJudge(analysis: AnalysisSettings(minRequests: 50, rules: [try RuleParser.parse("p99_latency > 2s for 2s")]))
        func sample(_ p99: Double) -> WatchSample {
            WatchSample(requests: 0, errors: 0, restarts: 0, ready: 2, instances: 2, window: MetricSample(requests: 80, latency: [99: p99]))
        }
        #expect(judge.observe(sample(3), at: Self.t0) == nil)
        #expect(judge.observe(sample(3), at: Self.t0 + 1) == nil)
        #expect(judge.observe(sample(3), at: Self.t0 + 2) == "p99_latency > 2s for 2s: observed 3 against 2")
    }

    /// A blue-green deploy whose release starts failing after the switch is rolled back by the watch to the
    /// warm previous release; after the rollback no request fails.
    @Test(.timeLimit(.minutes(2)))
    func aReleaseThatGoesBadAfterTheSwitchIsRolledBackToTheWarmOne() async throws {
        let s = try Sandbox(extra: "watch: 1m")
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            _ = try await s.release("v2", settings: "\"fail_rate\": 1.0, \"fail_after_s\": 3")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let v1Pids = Set(try await s.status().instances.map(\.pid))
            let load = LoadLoop(port: s.port)
            load.start(concurrency: 4, maxDuration: .seconds(60))
            // `deploy --watch` stays through the watch and exits 1 when the watch rolls back.
            let out = s.dir + "/deploy-watch.out"
            let cli = Task {
                try await ProcessSpawner.run(argv: [TestBinaries.slipway, "deploy", "v2", "--watch", "--config", s.dir + "/slipway.yml"], directory: s.dir,
                                             environment: ProcessInfo.processInfo.environment, logFile: out)
            }
            _ = try await poll(within: .seconds(20)) { try await s.status().watch?.release == "v2" ? true : nil }  // status shows the watch
            // v2 starts failing 3 s after it started; the watch rolls back within a few intervals.
            let rollback = try await poll(within: .seconds(30)) { () async throws -> DeploymentInfo? in
                let history: [DeploymentInfo] = try await s.client.get("/v1/deployments")
                return history.first { $0.kind == .rollback && $0.state.isTerminal }
            }
            #expect(rollback.state == .succeeded && rollback.version == "v1" && rollback.actor == "watch", "\(rollback)")
            // The incident names the release that went bad and the deployment that brought it, with the rollback as its mitigation.
            let bad = try #require(try await s.client.get("/v1/deployments", as: [DeploymentInfo].self).first { $0.version == "v2" && $0.kind == .deploy })
            #expect(rollback.undoes == bad.id, "\(rollback)")
            let incident = try await poll(within: .seconds(15)) { () async throws -> IncidentInfo? in
                try await s.client.get("/v1/incidents", as: [IncidentInfo].self).first
            }
            #expect(incident.release == "v2" && incident.deploymentId == bad.id && incident.mitigationDeploymentId == rollback.id
                    && incident.cause == .automaticRollback && incident.status == .mitigated, "\(incident)")
            #expect(incident.trigger.contains("release v2 (deployment \(bad.id)) went bad and deployment \(rollback.id) rolled back to v1"), "\(incident.trigger)")
            let exit = try await cli.value
            let printed = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            #expect(exit == 1, "\(printed)")
            #expect(printed.contains("✓ v2 is serving production") && printed.contains("watching v2 ("), "\(printed)")
            #expect(printed.contains("the watch of v2 on production ended: rolled back to v1 by watch: "), "\(printed)")
            let progress: DeploymentProgress = try await s.client.get("/v1/deployments/\(rollback.id)?after=0")
            #expect(progress.events.first?.detail.contains("a burst of errors") == true, "the evidence: \(progress.events.first?.detail ?? "")")
            let status = try await s.status()
            #expect(status.currentRelease == "v1" && status.watch == nil)
            #expect(Set(status.instances.filter { $0.release == "v1" && $0.state == .running }.map(\.pid)) == v1Pids, "the warm instances serve again")
            // From here on, nothing fails.
            let failedAtRollback = load.summary.failures, requestsAtRollback = load.summary.requests
            _ = try await poll(within: .seconds(10)) { load.summary.requests > requestsAtRollback + 200 ? true : nil }
            let summary = await load.stop()
            #expect(summary.failures == failedAtRollback, "\(summary)")
            // v2 is remembered as bad: deploying it again is refused by policy (exit 3) unless forced.
            do {
                _ = try await s.deploy("v2")
                Issue.record("a release the watch rolled back was deployed again without --force")
            } catch {
                let refusal = error as? SlipwayError
                #expect(refusal?.code == .policy && refusal?.exitCode == 3 && refusal?.message.contains("release v2 was rolled back") == true, "\(error)")
            }
            var forced = DeployRequest(version: "v2", environment: nil, strategy: nil, kind: .deploy, actor: "t")
            forced.force = true
            let again: DeploymentInfo = try await s.client.post("/v1/deployments", forced)
            #expect(try await s.outcome(again).state == .succeeded)
        }
    }
    /// A daemon restart during the post-deploy watch: the watch goes on from the stored record and still rolls a
    /// release that goes bad back to the warm previous one.
    @Test(.timeLimit(.minutes(2)))
    func theWatchGoesOnAcrossADaemonRestart() async throws {
        let s = try Sandbox(extra: "watch: 1m")
        try await s.withSpawnedDaemon { restart in
            _ = try await s.release("v1")
            _ = try await s.release("v2", settings: "\"fail_rate\": 1.0, \"fail_after_s\": 5")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let v2 = try await s.outcome(try await s.deploy("v2"))
            let watching = try await s.status().watch?.deploymentId
            #expect(v2.state == .succeeded && watching == v2.id)
            try await restart()
            #expect(try await s.status().watch?.deploymentId == v2.id, "the watch is on after the restart")
            let load = LoadLoop(port: s.port)
            load.start(concurrency: 2, maxDuration: .seconds(40))
            let rollback = try await poll(within: .seconds(30)) { () async throws -> DeploymentInfo? in
                let history: [DeploymentInfo] = try await s.client.get("/v1/deployments")
                return history.first { $0.kind == .rollback && $0.state.isTerminal }
            }
            _ = await load.stop()
            #expect(rollback.state == .succeeded && rollback.actor == "watch" && rollback.undoes == v2.id, "\(rollback)")
            #expect(try await s.status().currentRelease == "v1")
        }
    }
}
