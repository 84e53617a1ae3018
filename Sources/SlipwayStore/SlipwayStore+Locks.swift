import Foundation
import GRDB
import SlipwayCore

extension SlipwayStore {
    /// Takes the environment's deployment lock. A lock whose heartbeat is older than `staleAfter` is taken
    /// over, and the takeover is audited; a live one refuses with a policy error naming its holder.
    public func acquireLock(environment: String, holder: String, deploymentId: Int64?, actor: String,
                            staleAfter: TimeInterval = 30, now: Date = Date()) throws(SlipwayError) {
        try write { db in
            try Self.takeLock(db, environment: environment, holder: holder, deploymentId: deploymentId, actor: actor, staleAfter: staleAfter, now: now)
        }
    }

    /// Starts a deployment: takes the environment's lock and inserts the deployment (state `pending`) with its
    /// first event, in one transaction. `logFile` names the deployment's log from its id.
    public func beginDeployment(_ deployment: DeploymentInfo, holder: String, detail: String, staleAfter: TimeInterval = 30,
                                logFile: (Int64) -> String) throws(SlipwayError) -> DeploymentInfo {
        try write { db in
            try Self.takeLock(db, environment: deployment.environment, holder: holder, deploymentId: nil, actor: deployment.actor,
                              staleAfter: staleAfter, now: deployment.startedAt)
            var d = deployment
            try d.insert(db)
            d.logFile = logFile(d.id)
            try d.update(db)
            try db.execute(sql: "UPDATE locks SET deployment_id = ? WHERE environment = ?", arguments: [d.id, d.environment])
            var e = DeploymentEvent(seq: 0, deploymentId: d.id, time: d.startedAt, actor: d.actor, state: d.state, detail: detail)
            try e.insert(db)
            return d
        }
    }

    static func takeLock(_ db: Database, environment: String, holder: String, deploymentId: Int64?, actor: String,
                         staleAfter: TimeInterval, now: Date) throws {
        if let existing = try LockInfo.fetchOne(db, key: environment) {
                let age = now.timeIntervalSince(existing.heartbeatAt)
                if age < staleAfter {
                    let what = existing.deploymentId.map { "deployment \($0)" } ?? "an operation"
                    throw SlipwayError.policy(
                        "environment '\(environment)' is locked by \(existing.holder) (\(what), since \(Self.iso(existing.acquiredAt))); "
                            + "wait for it to finish, or run 'slipway lock release --env \(environment)' if it is stuck")
                }
                try Self.appendAudit(db, actor: actor, action: "lock.takeover", target: environment, outcome: "ok",
                                     detail: "took over a stale lock of \(existing.holder) (no heartbeat for \(Int(age))s)", now: now)
            }
        try LockInfo(environment: environment, holder: holder, deploymentId: deploymentId, acquiredAt: now, heartbeatAt: now).save(db)
    }

    public func heartbeat(environment: String, holder: String, now: Date = Date()) throws(SlipwayError) {
        try write { db in
            try db.execute(sql: "UPDATE locks SET heartbeat_at = ? WHERE environment = ? AND holder = ?", arguments: [now, environment, holder])
        }
    }

    /// Releases the lock; with a holder, only if that holder still has it.
    @discardableResult
    public func releaseLock(environment: String, holder: String? = nil) throws(SlipwayError) -> LockInfo? {
        try write { db in
            guard let existing = try LockInfo.fetchOne(db, key: environment) else { return nil }
            if let holder, existing.holder != holder { return nil }
            try existing.delete(db)
            return existing
        }
    }

    public func locks() throws(SlipwayError) -> [LockInfo] {
        try read { db in try LockInfo.order(Column("environment")).fetchAll(db) }
    }

    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
