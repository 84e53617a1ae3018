import Foundation
import GRDB
import SlipwayCore

/// The environment's row changed for one reason each: maintenance, a canary command, the scaled count, going
/// offline, the warm standby's end, the post-deploy watch, the releases remembered as bad. Each method reads,
/// changes only its own fields and writes in one transaction (`updateEnvironment`), so no change made
/// meanwhile by another is overwritten with a stale copy.
extension EnvironmentRecords {
    /// Changes the row and appends its audit entry in one transaction: the change is audited or not made.
    @discardableResult
    func updateEnvironment(_ name: String, audit note: AuditNote, _ change: (inout EnvironmentRecord) throws -> Void) throws(SlipwayError)
        -> EnvironmentRecord {
        try write(audited: note, target: name, subject: "on \(name)") { db in
            var record = try EnvironmentRecord.fetchOne(db, key: name) ?? EnvironmentRecord(name: name)
            try change(&record)
            try record.save(db)
            return record
        }
    }

    /// An operator's maintenance mode (nil: off), audited with it.
    public func setMaintenance(_ mode: MaintenanceMode?, environment: String, audit: AuditNote) throws(SlipwayError) {
        try updateEnvironment(environment, audit: audit) { $0.maintenance = mode }
    }

    /// A data rollback holds new requests with `mode` unless the environment is in maintenance already;
    /// returns that maintenance mode (nothing changed) or nil (the hold is set).
    public func holdRequests(_ mode: MaintenanceMode, environment: String) throws(SlipwayError) -> MaintenanceMode? {
        try updateEnvironment(environment) { record in
            if let current = record.maintenance { return current }
            record.maintenance = mode
            return nil
        }
    }

    /// Lifts a hold set by `holder`; false when the environment has none of its own.
    public func releaseHold(environment: String, holder: String) throws(SlipwayError) -> Bool {
        try updateEnvironment(environment) { record in
            guard record.maintenance?.actor == holder else { return false }
            record.maintenance = nil
            return true
        }
    }

    /// A `canary promote|abort` for the canary in progress, audited with it; nil (nothing written) when there is none.
    public func setCanaryCommand(_ command: CanaryCommand, environment: String, audit: (CanaryInfo) -> AuditNote) throws(SlipwayError) -> CanaryInfo? {
        guard let c = try store.environment(environment).canary else { return nil }
        var saved: CanaryInfo?
        try updateEnvironment(environment, audit: audit(c)) { record in
            guard var current = record.canary else { throw SlipwayError.notFound("the canary in \(environment) ended meanwhile") }
            current.command = command
            record.canary = current
            saved = current
        }
        return saved
    }

    /// The instance count `slipway scale` set.
    public func setInstanceCount(_ count: Int, environment: String) throws(SlipwayError) {
        try updateEnvironment(environment) { $0.instances = count }
    }

    /// `slipway down`: nothing serves; the release that did is the previous one.
    public func takeOffline(environment: String) throws(SlipwayError) {
        try updateEnvironment(environment) { record in
            if let c = record.currentRelease { record.previousRelease = c }
            record.currentRelease = nil
            record.standbyUntil = nil
        }
    }

    /// The warm standby's time is over, unless a deployment set a new one since (`until` is the time that expired).
    public func endStandby(environment: String, until: Date) throws(SlipwayError) {
        try updateEnvironment(environment) { record in
            if record.standbyUntil == until { record.standbyUntil = nil }
        }
    }

    /// A watch starts on `watch.release` if it still serves; the release to roll back to stays warm as long.
    public func startWatch(_ watch: WatchInfo, environment: String) throws(SlipwayError) -> Bool {
        try updateEnvironment(environment) { record in
            guard record.currentRelease == watch.release else { return false }
            record.watch = watch
            record.standbyUntil = max(record.standbyUntil ?? watch.until, watch.until)
            return true
        }
    }

    /// The watch of `deployment`'s latest line of figures (nothing when another watch replaced it).
    public func noteWatch(_ line: String, deployment: Int64, environment: String) throws(SlipwayError) {
        try updateEnvironment(environment) { record in
            guard record.watch?.deploymentId == deployment else { return }
            record.watch?.last = line
        }
    }

    /// Ends the watch of `deployment`; false when it had ended or was replaced already.
    public func endWatch(deployment: Int64, environment: String) throws(SlipwayError) -> Bool {
        try updateEnvironment(environment) { record in
            guard record.watch?.deploymentId == deployment else { return false }
            record.watch = nil
            return true
        }
    }

    /// Remembers `release` as bad (deploying it again needs `--force`), or forgets it (`why` nil) once it serves again.
    public func markBad(_ release: String, why: String?, environment: String) throws(SlipwayError) {
        try updateEnvironment(environment) { record in
            if let why { record.badReleases = (record.badReleases ?? [:]).merging([release: why]) { $1 } } else { record.badReleases?[release] = nil }
        }
    }
}
