import Foundation
import SlipwayCore
import SlipwayStore
import Testing

/// The environment row's intention-named writes: each changes only its own fields, and only when the row
/// still is as the caller saw it (the checks happen inside the transaction).
@Suite struct EnvironmentChangeTests {
    static let page = MaintenanceMode(mode: .on, html: "<p>back soon</p>", retryAfterS: 60, holdLimitMs: 0, since: 0, actor: "ops")
    static func hold(_ id: Int64) -> MaintenanceMode {
        MaintenanceMode(mode: .paused, html: "", retryAfterS: 30, holdLimitMs: 60_000, since: 0, actor: "slipway rollback \(id)")
    }

    @Test func aDataRollbacksHoldNeverReplacesNorLiftsAnOperatorsMaintenance() throws {
        let store = try SlipwayStore.inMemory()
        try store.environments.setMaintenance(Self.page, environment: "production", audit: AuditNote(.daemon("test"), action: "maintenance.on", outcome: "ok", detail: ""))
        #expect(try store.environments.holdRequests(Self.hold(7), environment: "production") == Self.page, "the operator's page stays")
        #expect(try store.environments.releaseHold(environment: "production", holder: "slipway rollback 7") == false)
        #expect(try store.environment("production").maintenance == Self.page)

        try store.environments.setMaintenance(nil, environment: "production", audit: AuditNote(.daemon("test"), action: "maintenance.off", outcome: "ok", detail: ""))
        #expect(try store.environments.holdRequests(Self.hold(7), environment: "production") == nil, "set")
        #expect(try store.environments.releaseHold(environment: "production", holder: "slipway rollback 8") == false, "another deployment's hold is not lifted")
        #expect(try store.environments.releaseHold(environment: "production", holder: "slipway rollback 7"))
        #expect(try store.environment("production").maintenance == nil)
    }

    @Test func theSwitchLiftsOnlyItsOwnHoldAndClearsTheRollout() throws {
        let store = try SlipwayStore.inMemory()
        _ = try store.environments.holdRequests(Self.hold(7), environment: "production")
        try store.environments.setRollout(["v1": 50, "v2": 50], environment: "production")
        #expect(try store.environments.switchRelease(environment: "production", to: "v2", previous: "v1", standbyUntil: Date(), liftingHoldOf: "slipway rollback 8") == false)
        var record = try store.environment("production")
        #expect(record.maintenance != nil && record.rollout == nil && record.currentRelease == "v2" && record.previousRelease == "v1")
        #expect(try store.environments.switchRelease(environment: "production", to: "v1", previous: "v2", standbyUntil: Date(), liftingHoldOf: "slipway rollback 7"))
        record = try store.environment("production")
        #expect(record.maintenance == nil && record.currentRelease == "v1" && record.previousRelease == "v2")
    }

    @Test func aWatchStartsOnlyOnTheServingReleaseAndEndsOnlyItself() throws {
        let store = try SlipwayStore.inMemory()
        try store.save(EnvironmentRecord(name: "production", currentRelease: "v3", previousRelease: "v2"))
        let until = Date().addingTimeInterval(600)
        #expect(try store.environments.startWatch(WatchInfo(deploymentId: 1, release: "v2", previous: "v1", until: until), environment: "production") == false,
                "v2 no longer serves")
        #expect(try store.environments.startWatch(WatchInfo(deploymentId: 2, release: "v3", previous: "v2", until: until), environment: "production"))
        let warmUntil = try #require(try store.environment("production").standbyUntil)
        #expect(abs(warmUntil.timeIntervalSince(until)) < 0.01, "the release to roll back to stays warm as long (the store keeps milliseconds)")
        try store.environments.noteWatch("12 requests", deployment: 1, environment: "production")
        #expect(try store.environment("production").watch?.last == nil, "another deployment's figures are not written on this watch")
        try store.environments.noteWatch("12 requests", deployment: 2, environment: "production")
        #expect(try store.environment("production").watch?.last == "12 requests")
        #expect(try store.environments.endWatch(deployment: 1, environment: "production") == false)
        #expect(try store.environments.endWatch(deployment: 2, environment: "production"))
        #expect(try store.environment("production").watch == nil)
    }

    @Test func aStandbyEndsOnlyIfNoDeploymentSetANewTime() throws {
        let store = try SlipwayStore.inMemory()
        let old = Date(timeIntervalSince1970: 1_000), new = Date(timeIntervalSince1970: 2_000)
        try store.save(EnvironmentRecord(name: "production", currentRelease: "v2", standbyUntil: new))
        try store.environments.endStandby(environment: "production", until: old)
        #expect(try store.environment("production").standbyUntil == new)
        try store.environments.endStandby(environment: "production", until: new)
        #expect(try store.environment("production").standbyUntil == nil)
    }

    @Test func aCanaryCommandNeedsACanaryAndTouchesNothingElse() throws {
        let store = try SlipwayStore.inMemory()
        let command = CanaryCommand(action: .abort, actor: "ana")
        let note = { (_: CanaryInfo) in AuditNote(.daemon("test"), action: "canary.abort", outcome: "accepted", detail: "") }
        #expect(try store.environments.setCanaryCommand(command, environment: "production", audit: note) == nil)
        #expect(try store.access.auditEntries().isEmpty, "nothing audited as accepted")
        var record = EnvironmentRecord(name: "production", currentRelease: "v1", instances: 3)
        record.canary = CanaryInfo(deploymentId: 4, release: "v2", stable: "v1", step: 0, steps: 2, weight: 10, plan: "", startedAt: Date(),
                                   baseCanary: RequestCounts(), baseStable: RequestCounts())
        record.rollout = ["v1": 90, "v2": 10]
        try store.save(record)
        #expect(try store.environments.setCanaryCommand(command, environment: "production", audit: note)?.command == command)
        let after = try store.environment("production")
        #expect(after.canary?.command == command && after.rollout == ["v1": 90, "v2": 10] && after.instances == 3)
        #expect(try store.access.auditEntries().first?.action == "canary.abort")
    }

    /// The canary's loop reads the canary, observes for a while, then saves what it saw: a `canary promote` stored
    /// in between is not lost (CI once saw a promote accepted and never acted on), and it is acted on once.
    @Test func aCommandStoredWhileTheLoopWorksSurvivesItsSaveAndIsTakenOnce() throws {
        let store = try SlipwayStore.inMemory()
        var record = EnvironmentRecord(name: "production", currentRelease: "v1")
        record.canary = CanaryInfo(deploymentId: 4, release: "v2", stable: "v1", step: 1, steps: 3, weight: 50, plan: "", startedAt: Date(),
                                   baseCanary: RequestCounts(), baseStable: RequestCounts())
        try store.save(record)
        let seenByTheLoop = try #require(try store.environment("production").canary)
        let promote = CanaryCommand(action: .promote, actor: "ana")
        let note = { (_: CanaryInfo) in AuditNote(.daemon("test"), action: "canary.promote", outcome: "accepted", detail: "") }
        #expect(try store.environments.setCanaryCommand(promote, environment: "production", audit: note) != nil)
        var analysed = seenByTheLoop
        analysed.last = nil
        try store.environments.saveCanary(analysed, environment: "production")
        #expect(try store.environment("production").canary?.command == promote, "the loop's save kept the command")
        var advanced = seenByTheLoop
        advanced.step = 2
        try store.environments.advanceCanary(advanced, environment: "production")
        #expect(try store.environment("production").canary?.command == promote, "so did its next step")
        #expect(try store.environments.takeCanaryCommand(environment: "production", deploymentId: 5) == nil, "another deployment's canary takes nothing")
        #expect(try store.environments.takeCanaryCommand(environment: "production", deploymentId: 4) == promote)
        #expect(try store.environments.takeCanaryCommand(environment: "production", deploymentId: 4) == nil, "taken once")
        #expect(try store.environment("production").canary?.step == 2)
    }
}
