import Foundation
import SlipwayCore
@testable import SlipwayEngine
import SlipwayStore
import Testing

/// How a deployment a daemon restart interrupted ends (`InterruptedDeployment` over `FakeDeploymentSteps`):
/// what the restarted daemon found decides between finishing, rolling back and resuming, never half-switched.
@Suite struct InterruptedDeploymentTests {
    static func interrupted(_ state: DeploymentState, on fake: FakeDeploymentSteps, routerServesNew: Bool = false, ready: Bool = true,
                            strategy: DeployStrategy = .blueGreen, configured: Bool = true) async throws -> InterruptedDeployment {
        let (d0, job, _) = try StrategyTests.job("", strategy: strategy)
        var d = d0
        d.state = state
        let news = await fake.instances.filter { $0.release == "v2" }
        return InterruptedDeployment(deployment: d, env: configured ? job.env : nil, file: "/srv/shop/slipway.yml", routerServesNew: routerServesNew,
                                     newInstances: news, newInstancesReady: ready && !news.isEmpty)
    }

    /// A fake serving v1 on two instances, with v2's two instances started beside it.
    static func halfway() async throws -> FakeDeploymentSteps {
        let fake = FakeDeploymentSteps(serving: "v1", instances: 2)
        let (_, job, _) = try StrategyTests.job("", strategy: .blueGreen)
        for slot in 0..<2 { _ = try await fake.start(job, release: "v2", slot: slot + 2) }
        await fake.clearActions()
        return fake
    }

    @Test func aSwitchTheRouterAlreadyServesIsFinishedAndTheOldReleaseKeptWarm() async throws {
        let fake = try await Self.halfway()
        let ending = try await Self.interrupted(.switching, on: fake, routerServesNew: true).end(on: fake)

        #expect(ending == .ended)
        #expect(await fake.states == [.draining, .succeeded])
        #expect(await fake.actions == ["switch v2", "move types to v2"], "the warm v1 instances are kept, nothing else stops; the process types follow")
        #expect(await fake.current == "v2")
    }

    @Test func aSwitchTheRouterDoesNotServeYetIsRolledBackNotCompleted() async throws {
        let fake = try await Self.halfway()
        let ending = try await Self.interrupted(.switching, on: fake, routerServesNew: false).end(on: fake)

        #expect(ending == .ended)
        #expect(await fake.states == [.rollingBack, .rolledBack])
        let actions = await fake.actions
        #expect(!actions.contains { $0.hasPrefix("switch") }, "\(actions)")
        #expect(actions == ["stop v2-2 v2-3", "restore v1", "release"], "\(actions)")
        #expect(await fake.current == "v1")
    }

    @Test func aDeploymentThatHadNotStartedFailsAndChangesNothing() async throws {
        let fake = FakeDeploymentSteps(serving: "v1", instances: 2)
        _ = try await Self.interrupted(.pending, on: fake).end(on: fake)

        #expect(await fake.states == [.failed])
        let details = await fake.details
        #expect(details.last?.contains("before it started; nothing changed") == true, "\(details)")
        #expect(await fake.actions == ["release"])
        #expect(await fake.instances.count == 2)
    }

    @Test func aDataRollbackInterruptedWhileRestoringPutsTheNewerDataBack() async throws {
        let fake = FakeDeploymentSteps(serving: "v2", instances: 2)
        var interrupted = try await Self.interrupted(.restoringData, on: fake)
        let manifest = BackupManifest(id: "b-safety", app: "shop", environment: "production", release: nil, reason: "before_rollback",
                                      deploymentId: 7, beforeDeployOf: nil, entries: [], startedAt: Date(), finishedAt: Date())
        interrupted.safety = BackupInfo(manifest: manifest, locations: ["local"])
        _ = try await interrupted.end(on: fake)

        #expect(await fake.states == [.failed])
        #expect(await fake.actions == ["data back from b-safety", "release", "release"])
    }

    @Test func aCanaryWhoseInstancesAreReadyResumesAndOneNotReadyRollsBack() async throws {
        let ready = try await Self.halfway()
        #expect(try await Self.interrupted(.canary, on: ready, strategy: .canary).end(on: ready) == .resume)
        #expect(await ready.states.isEmpty)
        #expect(await ready.actions.isEmpty)

        let dead = try await Self.halfway()
        #expect(try await Self.interrupted(.canary, on: dead, ready: false, strategy: .canary).end(on: dead) == .ended)
        #expect(await dead.states == [.rollingBack, .rolledBack])
        #expect(await dead.current == "v1")
    }

    @Test func aDeploymentOfAnEnvironmentNoLongerConfiguredEndsWithoutTouchingInstances() async throws {
        let fake = try await Self.halfway()
        _ = try await Self.interrupted(.starting, on: fake, configured: false).end(on: fake)

        #expect(await fake.states == [.failed])
        #expect(await fake.actions.isEmpty)
        #expect(await fake.instances.count == 4)
    }
}
