import Foundation
import GRDB
import SlipwayCore

/// The lock table's primitives. Only `Lease` (SlipwayEngine) calls them: it acquires, heartbeats and
/// releases an environment's lock for every operation.
extension SlipwayStore {
    /// Takes the environment's lock and runs `first` (the operation's first record) in the same transaction.
    /// A lock whose heartbeat is older than `staleAfter` is taken over (audited, and an event); a live one
    /// refuses with a policy error naming its holder, and nothing is written.
    public func acquireLock<T>(environment: String, holder: String, actor: Principal, staleAfter: TimeInterval, now: Date = Date(),
                               first: (Database, inout [Event]) throws -> T) throws(SlipwayError) -> T {
        try write(recording: { db, appended in
            try Self.takeLock(db, environment: environment, holder: holder, actor: actor, staleAfter: staleAfter, now: now, appended: &appended)
            return try first(db, &appended)
        })
    }

    /// Inserts a deployment (state `pending`) with its first event; for `acquireLock(first:)`.
    /// `logFile` names the deployment's log from its id.
    public static func insertDeployment(_ db: Database, _ deployment: DeploymentInfo, detail: String, appended: inout [Event],
                                        logFile: (Int64) -> String) throws -> DeploymentInfo {
        let d = try insertDeploymentRow(db, deployment, detail: detail, appended: &appended, logFile: logFile)
        try bindLock(db, environment: d.environment, to: d.id)
        return d
    }

    /// Names the deployment that holds the environment's lock just taken; for `acquireLock(first:)`.
    public static func bindLock(_ db: Database, environment: String, to deploymentId: Int64) throws {
        try db.execute(sql: "UPDATE locks SET deployment_id = ? WHERE environment = ?", arguments: [deploymentId, environment])
    }

    /// The deployment's row, its log file name and its first event (no lock involved).
    static func insertDeploymentRow(_ db: Database, _ deployment: DeploymentInfo, detail: String, appended: inout [Event],
                                    logFile: (Int64) -> String) throws -> DeploymentInfo {
        var row = DeploymentRow(deployment)
        try row.insert(db)
        var d = row.info
        d.logFile = logFile(d.id)
        try DeploymentRow(d).update(db)
        try insertEvent(db, d, change: .transition, actor: d.actor, detail: detail, now: d.startedAt, to: &appended)
        return d
    }

    static func takeLock(_ db: Database, environment: String, holder: String, actor: Principal, staleAfter: TimeInterval, now: Date,
                         appended: inout [Event]) throws {
        if let existing = try LockRow.fetchOne(db, key: environment)?.lock {
            if case .refuse(let why) = LockCheck.decide(existing, environment: environment, ttl: staleAfter, now: now) {
                throw SlipwayError.policy(why.reason)
            }
            let age = now.timeIntervalSince(existing.heartbeatAt)
            let detail = "took over a stale lock of \(existing.holder) (no heartbeat for \(Int(age))s)"
            try Self.appendAudit(db, Self.auditRecord(actor, action: "lock.takeover", target: environment, outcome: "ok", detail: detail, now: now))
            try append(db, Event(time: now, environment: environment, payload: .lock(.init(change: .takeover, holder: holder, detail: detail))),
                       to: &appended)
        }
        try LockRow(LockInfo(environment: environment, holder: holder, deploymentId: nil, acquiredAt: now, heartbeatAt: now)).save(db)
    }

    /// Refreshes the lock's heartbeat; false when `holder` no longer holds it.
    public func heartbeat(environment: String, holder: String, now: Date = Date()) throws(SlipwayError) -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE locks SET heartbeat_at = ? WHERE environment = ? AND holder = ?", arguments: [now, environment, holder])
            return db.changesCount > 0
        }
    }

    /// Releases the lock if `holder` still has it; with nil (an operator's `slipway lock release`, or a
    /// daemon start clearing its predecessor's locks), whoever holds it.
    @discardableResult
    public func releaseLock(environment: String, holder: String?) throws(SlipwayError) -> LockInfo? {
        try write { db in
            guard let existing = try LockRow.fetchOne(db, key: environment) else { return nil }
            if let holder, existing.lock.holder != holder { return nil }
            try existing.delete(db)
            return existing.lock
        }
    }

    public func locks() throws(SlipwayError) -> [LockInfo] {
        try read { db in try LockRow.order(LockRow.Columns.environment).fetchAll(db).map(\.lock) }
    }

    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
