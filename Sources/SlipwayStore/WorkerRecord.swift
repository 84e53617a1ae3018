import Foundation
import GRDB
import SlipwayCore

/// A process of an unrouted type (`processes.worker`): its release and slot, and the process that runs it.
public struct WorkerRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "workers"
    public enum State: String, Codable, Sendable { case running, stopping }

    public var environment: String
    public var type: String
    public var release: String
    public var slot: Int
    /// 0: it exited and starts again after its back-off.
    public var pid: Int32
    public var procStartTime: Int64
    public var state: State
    /// Starts after the first (after a crash).
    public var restarts: Int
    /// Exits in a row without ten seconds up in between.
    public var crashes: Int
    public var startedAt: Date
    public var logFile: String
    /// A routed type's port (0: unrouted).
    public var port: Int = 0
    /// A routed type's process the router sends its path to.
    public var serving = false

    public init(environment: String, type: String, release: String, slot: Int, pid: Int32, procStartTime: Int64, logFile: String) {
        self.environment = environment
        self.type = type
        self.release = release
        self.slot = slot
        self.pid = pid
        self.procStartTime = procStartTime
        self.state = .running
        self.restarts = 0
        self.crashes = 0
        self.startedAt = Date()
        self.logFile = logFile
    }

    /// `production-v2-worker-0`: as SLIPWAY_INSTANCE says it.
    public var name: String { "\(environment)-\(release)-\(type)-\(slot)" }

    enum CodingKeys: String, CodingKey {
        case environment, type, release, slot, pid, state, restarts, crashes, port, serving
        case procStartTime = "proc_start_time", startedAt = "started_at", logFile = "log_file"
    }
}

/// The unrouted process types' rows (`store.workers`), and `slipway scale TYPE=N`'s counts.
public struct WorkerRecords: StoreView {
    let store: SlipwayStore

    public func all(environment: String? = nil) throws(SlipwayError) -> [WorkerRecord] {
        try read { db in
            var q = WorkerRecord.all()
            if let environment { q = q.filter(Column("environment") == environment) }
            return try q.order(Column("environment"), Column("type"), Column("release"), Column("slot")).fetchAll(db)
        }
    }

    public func save(_ record: WorkerRecord) throws(SlipwayError) {
        try write { db in try record.save(db) }
    }

    /// A routed type's switch in one transaction: `on` are served from now, `off` no longer.
    public func serve(_ on: [WorkerRecord], stop off: [WorkerRecord]) throws(SlipwayError) {
        try write { db in
            for var w in on { w.serving = true; try w.save(db) }
            for var w in off { w.serving = false; try w.save(db) }
        }
    }

    public func delete(_ record: WorkerRecord) throws(SlipwayError) {
        _ = try write { db in
            try WorkerRecord.deleteOne(db, key: ["environment": record.environment, "type": record.type, "release": record.release, "slot": record.slot])
        }
    }

    /// `slipway scale TYPE=N`'s counts for `environment`, by type.
    public func scale(environment: String) throws(SlipwayError) -> [String: Int] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT type, instances FROM process_scale WHERE environment = ?", arguments: [environment])
            return Dictionary(rows.map { ($0["type"] as String, $0["instances"] as Int) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// Records a type's count with its audit entry in one transaction, before anything starts or stops.
    public func setScale(_ instances: Int, type: String, environment: String, audit note: AuditNote) throws(SlipwayError) {
        try write(audited: note, target: "\(environment)/\(type)", subject: "of process type \(type)") { db in
            try db.execute(sql: "INSERT INTO process_scale (environment, type, instances) VALUES (?, ?, ?) ON CONFLICT (environment, type) DO UPDATE SET instances = excluded.instances",
                           arguments: [environment, type, instances])
        }
    }
}

extension SlipwayStore {
    /// The unrouted process types' rows.
    public var workers: WorkerRecords { WorkerRecords(store: self) }
}
