import Foundation
import GRDB
import SlipwayCore
import Synchronization

/// The embedded state store: SQLite through GRDB, WAL mode. Every state change is one transaction.
public final class SlipwayStore: Sendable {
    let db: any DatabaseWriter
    /// In-process subscribers of the event log.
    public let bus = EventBus()
    /// Every write moves this after its transaction ended (committed or not): a value read while it stayed the same is
    /// still what the database holds. Only the daemon opens the database.
    let writes = Atomic<UInt64>(0)
    /// The instance rows as last read, with the `writes` they were read at: the supervision loop reads them four times
    /// a second and they change only on a deploy, a crash or a readiness flip.
    let instanceCache = Mutex<(writes: UInt64, rows: [InstanceRecord])?>(nil)
    /// Environment rows as last read, each with the `writes` it was read at: the periodic jobs read them several times
    /// a second (decoding their JSON columns each time), and they change only when something is written.
    let environmentCache = Mutex<[String: (writes: UInt64, record: EnvironmentRecord)]>([:])
    /// Audit entries, events and other records that could not be written (`slipway_store_write_failures_total`).
    private let writeFailureCount = Atomic<Int>(0)
    public var writeFailures: Int { writeFailureCount.load(ordering: .relaxed) }
    public func countWriteFailure() { writeFailureCount.add(1, ordering: .relaxed) }

    /// Opens (creating if needed) `state.db` in WAL mode and migrates it.
    public convenience init(path: String) throws(SlipwayError) {
        // The audit log and the event log live here: only the daemon's user may read it. SQLite gives the
        // -wal and -shm files the database file's mode, so creating it 0600 first covers all three.
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        for suffix in ["", "-wal", "-shm"] { chmod(path + suffix, 0o600) }
        do {
            var config = Configuration()
            config.busyMode = .timeout(10)
            let pool = try DatabasePool(path: path, configuration: config)
            try self.init(writer: pool)
        } catch let e as SlipwayError {
            throw e
        } catch {
            throw SlipwayError(.internal, "cannot open the state database \(path)", cause: error)
        }
    }

    /// An in-memory store, for tests.
    public static func inMemory() throws -> SlipwayStore { try SlipwayStore(writer: DatabaseQueue()) }

    init(writer: any DatabaseWriter) throws(SlipwayError) {
        db = writer
        do { try Schema.migrator.migrate(writer) } catch {
            throw SlipwayError(.internal, "cannot migrate the state database", cause: error)
        }
    }

    /// A value as JSON text for a column; a failure is counted and thrown (nothing is written).
    func json<T: Encodable>(_ value: T, _ encoder: JSONEncoder = SlipwayJSON.encoder(), what: String) throws(SlipwayError) -> String {
        do { return String(decoding: try SlipwayJSON.encode(value, with: encoder, what: "\(what) for the state database"), as: UTF8.self) } catch {
            countWriteFailure()
            throw error
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws(SlipwayError) -> T {
        defer { writes.add(1, ordering: .releasing) }
        do { return try db.write(body) } catch let e as SlipwayError { throw e } catch {
            throw SlipwayError(.internal, "state database write failed", cause: error)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(SlipwayError) -> T {
        do { return try db.read(body) } catch let e as SlipwayError { throw e } catch {
            throw SlipwayError(.internal, "state database read failed", cause: error)
        }
    }

    // MARK: Deployments

    /// Moves a deployment to `state` (checked against the state machine) and records the event, atomically.
    @discardableResult
    public func transition(_ id: Int64, to state: DeploymentState, actor: String, detail: String, message: String? = nil,
                           reason: DeploymentInfo.EndReason? = nil, now: Date = Date()) throws(SlipwayError) -> DeploymentInfo {
        try write(recording: { db, appended in
            try Self.transition(db, id, to: state, actor: actor, detail: detail, message: message, reason: reason, now: now, appended: &appended)
        })
    }

    /// A transition inside a transaction another write shares (`startCanary`).
    static func transition(_ db: Database, _ id: Int64, to state: DeploymentState, actor: String, detail: String, message: String?,
                           reason: DeploymentInfo.EndReason?, now: Date, appended: inout [Event]) throws -> DeploymentInfo {
        guard var d = try DeploymentRow.fetchOne(db, key: id)?.info else { throw SlipwayError.notFound("no deployment \(id)") }
        d.state = try d.state.transition(to: state)
        if let reason { d.endReason = reason }
        if state.isTerminal {
            d.finishedAt = now
            d.outcome = state.rawValue
            d.message = message ?? detail
        }
        try DeploymentRow(d).update(db)
        try insertEvent(db, d, change: .transition, actor: actor, detail: detail, now: now, to: &appended)
        return d
    }

    /// Records an event without changing state (progress detail).
    public func note(_ id: Int64, actor: String, detail: String, now: Date = Date()) throws(SlipwayError) {
        try write(recording: { db, appended in
            guard let d = try DeploymentRow.fetchOne(db, key: id)?.info else { return }
            try Self.insertEvent(db, d, change: .note, actor: actor, detail: detail, now: now, to: &appended)
        })
    }

    /// A deployment's progress row (what `slipway deploy` follows) and its entry in the event log.
    static func insertEvent(_ db: Database, _ d: DeploymentInfo, change: EventPayload.Deployment.Change, actor: String, detail: String,
                            now: Date, to appended: inout [Event]) throws {
        var row = DeploymentEventRow(DeploymentEvent(seq: 0, deploymentId: d.id, time: now, actor: actor, state: d.state, detail: detail))
        try row.insert(db)
        let payload = EventPayload.Deployment(change: change, state: d.state, version: d.version, kind: d.kind, detail: detail)
        try append(db, Event(time: now, environment: d.environment, deploymentId: d.id, payload: .deployment(payload)), to: &appended)
    }

    /// Sets the commit time of deployments that have none from `commits` (release → commit time); returns how many.
    public func fillCommitTimes(_ commits: [String: Date]) throws(SlipwayError) -> Int {
        try write { db in
            var n = 0
            for (version, time) in commits {
                try db.execute(sql: "UPDATE deployments SET commit_time = ? WHERE version = ? AND commit_time IS NULL", arguments: [time, version])
                n += db.changesCount
            }
            return n
        }
    }

    public func deployment(_ id: Int64) throws(SlipwayError) -> DeploymentInfo? {
        try read { db in try DeploymentRow.fetchOne(db, key: id)?.info }
    }

    public func deployments(environment: String? = nil, limit: Int = 50) throws(SlipwayError) -> [DeploymentInfo] {
        try read { db in
            var q = DeploymentRow.order(DeploymentRow.Columns.id.desc).limit(limit)
            if let environment { q = q.filter(DeploymentRow.Columns.environment == environment) }
            return try q.fetchAll(db).map(\.info)
        }
    }

    public func activeDeployments() throws(SlipwayError) -> [DeploymentInfo] {
        let terminal = [DeploymentState.succeeded, .failed, .rolledBack].map(\.rawValue)
        return try read { db in
            try DeploymentRow.filter(!terminal.contains(DeploymentRow.Columns.state)).order(DeploymentRow.Columns.id).fetchAll(db).map(\.info)
        }
    }

    public func events(deployment id: Int64, after seq: Int64 = 0) throws(SlipwayError) -> [DeploymentEvent] {
        try read { db in
            try DeploymentEventRow.filter(DeploymentEventRow.Columns.deploymentId == id && DeploymentEventRow.Columns.seq > seq)
                .order(DeploymentEventRow.Columns.seq).fetchAll(db).map(\.event)
        }
    }

    // MARK: Environments

    public func environment(_ name: String) throws(SlipwayError) -> EnvironmentRecord {
        let seen = writes.load(ordering: .acquiring)
        if let cached = environmentCache.withLock({ $0[name] }), cached.writes == seen { return cached.record }
        let record = try read { db in try EnvironmentRecord.fetchOne(db, key: name) } ?? EnvironmentRecord(name: name)
        // Kept only if nothing was written meanwhile (the read may have seen the state before or after that write).
        // Names come from requests too (`?env=`): a few hundred at most are kept.
        if writes.load(ordering: .acquiring) == seen {
            environmentCache.withLock { kept in
                if kept.count >= 256, kept[name] == nil { kept.removeAll(keepingCapacity: true) }
                kept[name] = (seen, record)
            }
        }
        return record
    }

    public func save(_ env: EnvironmentRecord) throws(SlipwayError) {
        try write { db in try env.save(db) }
    }

    // MARK: Instances

    public func instances(environment: String? = nil) throws(SlipwayError) -> [InstanceRecord] {
        let seen = writes.load(ordering: .acquiring)
        let all: [InstanceRecord]
        if let kept = instanceCache.withLock({ $0 }), kept.writes == seen {
            all = kept.rows
        } else {
            all = try read { db in try InstanceRecord.order(InstanceRecord.Columns.environment, InstanceRecord.Columns.release, InstanceRecord.Columns.slot).fetchAll(db) }
            // Kept only if nothing was written meanwhile (as an environment's row).
            if writes.load(ordering: .acquiring) == seen { instanceCache.withLock { $0 = (seen, all) } }
        }
        guard let environment else { return all }
        return all.filter { $0.environment == environment }
    }

    @discardableResult
    public func save(_ instance: InstanceRecord) throws(SlipwayError) -> InstanceRecord {
        try write { db in
            var i = instance
            try i.save(db)
            return i
        }
    }

    public func deleteInstance(_ id: Int64) throws(SlipwayError) {
        _ = try write { db in try InstanceRecord.deleteOne(db, key: id) }
    }
}
