import Foundation
import GRDB
import SlipwayCore

/// The writes that move traffic between releases. Each keeps an invariant of the environment's record
/// (a canary always has its two pools' weights; no rollout outlives its canary) and happens in one
/// transaction that reads, changes and writes the record: no other write lands in between.
extension EnvironmentRecords {
    /// Changes one environment's record in one transaction; returns what `change` returns.
    @discardableResult
    public func updateEnvironment<T>(_ name: String, _ change: (inout EnvironmentRecord) -> T) throws(SlipwayError) -> T {
        try write { db in
            var record = try EnvironmentRecord.fetchOne(db, key: name) ?? EnvironmentRecord(name: name)
            let result = change(&record)
            try record.save(db)
            return result
        }
    }

    /// A canary begins: the deployment moves to `canary`, the environment records the canary and both pools'
    /// weights, the stable release's watch ends (its figures would mix with the canary's), and the canary's
    /// `started` event is appended — all in one transaction.
    public func startCanary(_ c: CanaryInfo, environment: String, actor: String, detail: String, event: EventPayload.Canary,
                            now: Date = Date()) throws(SlipwayError) -> DeploymentInfo {
        try write(recording: { db, appended in
            let d = try SlipwayStore.transition(db, c.deploymentId, to: .canary, actor: actor, detail: detail, message: nil, reason: nil, now: now,
                                        appended: &appended)
            var record = try EnvironmentRecord.fetchOne(db, key: environment) ?? EnvironmentRecord(name: environment)
            record.canary = c
            record.rollout = Self.weights(of: c)
            record.watch = nil
            try record.save(db)
            try SlipwayStore.append(db, Event(time: now, environment: environment, deploymentId: c.deploymentId, payload: .canary(event)), to: &appended)
            return d
        })
    }

    /// The canary's state as of its last interval (the last analysis, the judge's evidence). A command stored
    /// since the caller read the canary is kept: only `takeCanaryCommand` consumes one.
    public func saveCanary(_ c: CanaryInfo?, environment: String, evidence: CanaryJudge.Evidence? = nil) throws(SlipwayError) {
        try updateEnvironment(environment) { record in
            record.canary = Self.keepingCommand(c, of: record.canary)
            if let evidence { record.canaryEvidence = evidence }
        }
    }

    /// The canary's next step: its record and both pools' weights together (a command stored meanwhile is kept).
    public func advanceCanary(_ c: CanaryInfo, environment: String) throws(SlipwayError) {
        try updateEnvironment(environment) { record in
            record.canary = Self.keepingCommand(c, of: record.canary)
            record.rollout = Self.weights(of: c)
        }
    }

    /// The pending `canary promote|abort` of deployment `deploymentId`'s canary, cleared in the same transaction
    /// that reads it: each command is acted on once, and none set meanwhile is lost.
    public func takeCanaryCommand(environment: String, deploymentId: Int64) throws(SlipwayError) -> CanaryCommand? {
        try updateEnvironment(environment) { record in
            guard var c = record.canary, c.deploymentId == deploymentId, let command = c.command else { return nil }
            c.command = nil
            record.canary = c
            return command
        }
    }

    /// `next` with the command the stored canary of the same deployment holds (commands are set by
    /// `setCanaryCommand` and cleared by `takeCanaryCommand` only).
    public static func keepingCommand(_ next: CanaryInfo?, of stored: CanaryInfo?) -> CanaryInfo? {
        guard var next else { return nil }
        next.command = stored?.deploymentId == next.deploymentId ? stored?.command : nil
        return next
    }

    /// The canary ends without a switch: no canary, no rollout; `bad` (release, why) is remembered as bad.
    public func endCanary(environment: String, bad: (release: String, why: String)? = nil) throws(SlipwayError) {
        try updateEnvironment(environment) { record in
            record.canary = nil
            record.rollout = nil
            if let bad { record.badReleases = (record.badReleases ?? [:]).merging([bad.release: bad.why]) { $1 } }
        }
    }

    /// Each release's pool weight during a rolling deploy (nil: the current release alone).
    public func setRollout(_ weights: [String: Int]?, environment: String) throws(SlipwayError) {
        try updateEnvironment(environment) { $0.rollout = weights }
    }

    /// The switch: `release` serves alone, `previous` (when another) becomes the previous release, warm until
    /// `standbyUntil`; no canary or rollout is left. A hold on requests set by `holder` (a data rollback's) is
    /// lifted with it; returns whether one was.
    public func switchRelease(environment: String, to release: String, previous: String?, standbyUntil: Date,
                              liftingHoldOf holder: String) throws(SlipwayError) -> Bool {
        try updateEnvironment(environment) { record in
            if previous != release { record.previousRelease = previous }
            record.currentRelease = release
            record.rollout = nil
            record.canary = nil
            record.standbyUntil = standbyUntil
            guard record.maintenance?.actor == holder else { return false }
            record.maintenance = nil
            return true
        }
    }

    /// A deployment undone: `release` (the one it replaced; nil: nothing) serves again, alone.
    public func revertRelease(environment: String, to release: String?) throws(SlipwayError) {
        try updateEnvironment(environment) { record in
            record.currentRelease = release
            record.rollout = nil
            record.canary = nil
            if record.previousRelease == record.currentRelease { record.previousRelease = nil }
        }
    }

    static func weights(of c: CanaryInfo) -> [String: Int] { [c.stable: 100 - c.weight, c.release: c.weight] }
}
