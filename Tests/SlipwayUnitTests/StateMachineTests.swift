import Synchronization
import Testing
@testable import SlipwayCore

struct StateMachineTests {
    @Test func blueGreenHappyPathIsAllowed() throws {
        var s = DeploymentState.pending
        for next in [DeploymentState.starting, .verifying, .switching, .draining, .succeeded] { s = try s.transition(to: next) }
        #expect(s.isTerminal)
    }

    @Test func recreateAndRollbackPathsAreAllowed() throws {
        var s = DeploymentState.pending
        for next in [DeploymentState.stoppingOld, .starting, .verifying, .rollingBack, .rolledBack] { s = try s.transition(to: next) }
        #expect(s == .rolledBack)
    }

    @Test func invalidTransitionsAreRejected() {
        #expect(throws: SlipwayError.self) { try DeploymentState.pending.transition(to: .switching) }
        #expect(throws: SlipwayError.self) { try DeploymentState.succeeded.transition(to: .rollingBack) }
        #expect(throws: SlipwayError.self) { try DeploymentState.switching.transition(to: .failed) }  // traffic moved: must roll back
        #expect(throws: SlipwayError.self) { try DeploymentState.failed.transition(to: .starting) }
    }

    @Test func recoveryNeverLeavesAHalfSwitch() {
        for s in [DeploymentState.pending, .stoppingOld, .starting, .verifying, .rollingBack] {
            #expect(DeploymentRecovery.action(for: s, routerServesNew: true, newInstancesReady: true) == .rollBack, "\(s)")
        }
        #expect(DeploymentRecovery.action(for: .switching, routerServesNew: true, newInstancesReady: true) == .finish)
        #expect(DeploymentRecovery.action(for: .switching, routerServesNew: true, newInstancesReady: false) == .rollBack)
        #expect(DeploymentRecovery.action(for: .switching, routerServesNew: false, newInstancesReady: true) == .rollBack)
        #expect(DeploymentRecovery.action(for: .draining, routerServesNew: true, newInstancesReady: false) == .finish)
    }

    @Test func readinessNeedsConsecutiveResults() {
        var t = ReadinessTracker(healthyThreshold: 2, unhealthyThreshold: 3)
        var changes: [Bool] = []
        for ok in [true, false, true, true] { changes.append(t.record(success: ok)) }  // a failure resets the streak
        #expect(changes == [false, false, false, true] && t.isReady)
        changes = []
        for _ in 0..<3 { changes.append(t.record(success: false)) }
        #expect(changes == [false, false, true] && !t.isReady)
    }

    @Test func gateIsReadyAfterHealthyThresholdProbes() async throws {
        let clock = TestClock()
        let probes = Atomic<Int>(0)
        let settings = HealthSettings(interval: .seconds(1), healthyThreshold: 2, deadline: .seconds(60))
        let outcome = try await HealthGate(clock: clock, settings: settings).run(instances: 2) { _ in
            probes.add(1, ordering: .relaxed)
            return ProbeResult(success: true, detail: "200 OK")
        }
        #expect(outcome == .ready)
        #expect(probes.load(ordering: .relaxed) == 4)  // two instances × healthy_threshold
        #expect(clock.now.offset == .seconds(1))        // one interval between the two rounds
    }

    @Test func neverReadyReleaseExpiresAtTheDeadlineWithTheLastAnswer() async throws {
        let clock = TestClock()
        let settings = HealthSettings(interval: .seconds(1), healthyThreshold: 2, deadline: .seconds(10))
        let outcome = try await HealthGate(clock: clock, settings: settings).run(instances: 1) { _ in
            ProbeResult(success: false, detail: "503 Service Unavailable: not ready")
        }
        #expect(outcome == .expired(lastResults: [ProbeResult(success: false, detail: "503 Service Unavailable: not ready")]))
        #expect(clock.now.offset == .seconds(10))
        #expect(clock.sleeps == 10)
    }

    @Test func slowStarterPassesBeforeTheDeadline() async throws {
        let clock = TestClock()
        let settings = HealthSettings(interval: .milliseconds(500), healthyThreshold: 2, deadline: .seconds(5))
        let outcome = try await HealthGate(clock: clock, settings: settings).run(instances: 1) { _ in
            ProbeResult(success: clock.now.offset >= .seconds(3), detail: "")
        }
        #expect(outcome == .ready)
        #expect(clock.now.offset == .milliseconds(3500))
    }
}
