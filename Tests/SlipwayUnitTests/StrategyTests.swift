import Foundation
import Logging
import SlipwayCore
@testable import SlipwayEngine
import SlipwayStore
import Testing

/// Each deploy strategy over `FakeDeploymentSteps`: no processes, sockets or daemon, only the order of
/// what the strategy did and where it left the environment.
@Suite struct StrategyTests {
    static func job(_ yaml: String, version: String = "v2", previous: String? = "v1",
                    strategy: DeployStrategy) throws -> (DeploymentInfo, DeploymentJob, DeployLog) {
        let cfg = try ConfigLoader.parse(yaml: "app: shop\nprocess: { command: x }\n" + yaml, file: "/srv/shop/slipway.yml", directory: "/srv/shop")
        let env = try cfg.environment(nil)
        let d = DeploymentInfo(id: 7, environment: env.name, version: version, previousVersion: previous, kind: .deploy, strategy: strategy,
                               state: .pending, actor: "ops", startedAt: Date(), logFile: "/dev/null")
        let lease = Lease(environment: env.name, holder: "test", store: try SlipwayStore.inMemory(), settings: LeaseSettings(), logger: Logger(label: "test"))
        return (d, DeploymentJob(deployment: d, config: cfg, env: env, lease: lease), DeployLog(path: "/dev/null"))
    }

    static func run(_ strategy: DeployStrategy, _ yaml: String, on fake: FakeDeploymentSteps, version: String = "v2") async throws -> DeploymentInfo {
        var (d, job, log) = try job(yaml, version: version, previous: await fake.current, strategy: strategy)
        try await Strategies.named(strategy).run(&d, job, log: log, on: fake)
        return d
    }

    @Test func aRollingDeployWhoseSecondBatchFailsItsGateGivesTheOldReleaseAllTrafficBack() async throws {
        let fake = FakeDeploymentSteps(serving: "v1", instances: 4)
        await fake.script(gates: [.ready, .expired(lastResults: [])])
        let d = try await Self.run(.rolling, "rolling: { batch: 2, max_surge: 2 }\n", on: fake)

        #expect(d.state == .rolledBack)
        #expect(d.message?.contains("batch 2 of v2 was not ready") == true, "\(d.message ?? "")")
        let actions = await fake.actions
        #expect(actions == [
            "start v2-0", "start v2-1", "gate 2 → ready", "weights v1=4 v2=2",   // batch 1 joins beside all four old ones (surge)
            "weights v1=2 v2=2", "stop v1-2 v1-3",                                 // then two old ones leave
            "start v2-2", "start v2-3", "gate 2 → expired", "stop v2-2 v2-3",      // batch 2 is not ready: stopped, never routed
            "start v1-2", "start v1-3", "stop v2-0 v2-1", "restore v1",            // v1 gets its four back and serves alone
        ], "\(actions)")
        #expect(await fake.current == "v1")
        #expect(await fake.weights == nil)
        #expect(await fake.instances.filter { $0.release == "v1" && $0.state == .running }.count == 4)
        #expect(await fake.states == [.starting, .rollingBack, .rolledBack])
    }

    @Test func aRecreateWhoseNewReleaseNeverGetsReadyStartsTheOldOneAgain() async throws {
        let fake = FakeDeploymentSteps(serving: "v1", instances: 2)
        await fake.script(neverReady: ["v2"])
        let d = try await Self.run(.recreate, "strategy: recreate\n", on: fake)

        #expect(d.state == .rolledBack)
        #expect(d.message?.contains("release v2 was not ready") == true)
        let actions = await fake.actions
        #expect(actions == [
            "push", "stop v1-0 v1-1",                                            // the old release goes first (503 meanwhile)
            "start v2-0", "start v2-1", "gate 2 → expired", "stop v2-0 v2-1",    // the new one never gets ready
            "start v1-0", "start v1-1", "restore v1",                            // the old one is started again
        ], "\(actions)")
        #expect(!actions.contains { $0.hasPrefix("switch") })
        #expect(await fake.current == "v1")
        #expect(await fake.states == [.stoppingOld, .starting, .verifying, .rollingBack, .rolledBack])
    }

    @Test func aCanaryAbortedAtItsSecondStepPutsAllTrafficBackOnTheStableRelease() async throws {
        let fake = FakeDeploymentSteps(serving: "v1", instances: 3)
        // Interval 1: `canary promote` (to step 2); interval 2: `canary abort`.
        await fake.script(onPause: { n, c in
            if n == 1 { c?.command = CanaryCommand(action: .promote, actor: "ana") }
            if n == 2 { c?.command = CanaryCommand(action: .abort, actor: "ana", reason: "checkout errors") }
            return nil
        })
        let d = try await Self.run(.canary, """
            strategy: canary
            canary: { instances: 1, steps: [{ weight: 10, pause: manual }, { weight: 50, pause: manual }] }
            """, on: fake)

        #expect(d.state == .rolledBack)
        #expect(d.endReason == .aborted)
        #expect(d.message?.contains("canary aborted: aborted by ana: checkout errors") == true, "\(d.message ?? "")")
        let actions = await fake.actions
        #expect(actions == [
            "start v2-0", "gate 1 → ready", "canary v2 10%", "canary v2 50%",   // step 1, then step 2 on the promote
            "canary ended", "stop v2-0", "restore v1",                           // the abort: weights gone first, then the canary stops
        ], "\(actions)")
        #expect(await fake.pauses == 2)
        #expect(await fake.bad.isEmpty)  // a person's abort does not mark the release bad
        #expect(await fake.canary == nil)
        #expect(await fake.current == "v1")
    }

    @Test func aCanaryWhoseProcessDiesAtItsSecondStepIsRevertedAndRememberedAsBad() async throws {
        let fake = FakeDeploymentSteps(serving: "v1", instances: 2)
        await fake.script(onPause: { n, c in
            if n == 1 { c?.command = CanaryCommand(action: .promote, actor: "ana") }
            return n == 2 ? CanaryObservation(canary: RequestCounts(), stable: RequestCounts(), instances: 1, alive: 0, ready: 0) : nil
        })
        let d = try await Self.run(.canary, """
            strategy: canary
            canary: { instances: 1, steps: [{ weight: 10, pause: manual }, { weight: 50, pause: manual }] }
            """, on: fake)

        #expect(d.state == .rolledBack)
        #expect(d.endReason == .reverted)
        #expect(await fake.bad["v2"]?.contains("the canary's process exited") == true)
        #expect(await fake.actions.suffix(3) == ["canary ended", "stop v2-0", "restore v1"])
    }

    @Test func aCanaryPromotedPastItsLastStepSwitchesAndKeepsTheStableReleaseWarm() async throws {
        let fake = FakeDeploymentSteps(serving: "v1", instances: 2)
        await fake.script(onPause: { _, c in
            c?.command = CanaryCommand(action: .promote, actor: "ana")
            return nil
        })
        let d = try await Self.run(.canary, """
            strategy: canary
            canary: { instances: 1, steps: [{ weight: 10, pause: manual }] }
            """, on: fake)

        #expect(d.state == .succeeded)
        let actions = await fake.actions
        // The process types (workers) move only at the promotion, after the switch; a refused or aborted deploy above never moves them.
        #expect(actions == ["start v2-0", "gate 1 → ready", "canary v2 10%", "start v2-1", "gate 1 → ready", "switch v2", "move types to v2", "prune"], "\(actions)")
        #expect(await fake.current == "v2")
        #expect(await fake.previous == "v1")
        #expect(await fake.instances.filter { $0.release == "v1" }.count == 2)  // warm for the watch
    }

    @Test func aBlueGreenDeployStopsAtAShutdownBetweenSteps() async throws {
        let fake = FakeDeploymentSteps(serving: "v1", instances: 1)
        await fake.stop(after: "gate 1 → ready")
        let error = await #expect(throws: SlipwayError.self) { _ = try await Self.run(.blueGreen, "", on: fake) }
        #expect(error?.reason == .daemonStopping)
        #expect(await !fake.actions.contains { $0.hasPrefix("switch") })
        #expect(await fake.current == "v1")
    }
}
