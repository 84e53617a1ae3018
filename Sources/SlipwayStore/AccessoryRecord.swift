import Foundation
import GRDB
import SlipwayCore

/// An accessory's row: the process that runs it (pid 0: none), what it was started with, whether it is wanted up.
public struct AccessoryRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "accessories"
    public var environment: String
    public var name: String
    /// false after `accessory stop`: the supervision leaves it down until `start` or `restart`.
    public var wanted: Bool
    public var pid: Int32
    public var procStartTime: Int64
    /// Starts after the first (crashes and `restart`).
    public var restarts: Int
    /// Exits in a row without ten seconds up in between (the `accessory-crash-loop` alert fires at 3).
    public var crashes: Int = 0
    public var startedAt: Date
    /// `AccessorySettings.fingerprint` of the settings it was started with.
    public var startedWith: String
    public var logFile: String

    public init(environment: String, name: String, wanted: Bool, pid: Int32, procStartTime: Int64, restarts: Int, startedAt: Date,
                startedWith: String, logFile: String) {
        self.environment = environment
        self.name = name
        self.wanted = wanted
        self.pid = pid
        self.procStartTime = procStartTime
        self.restarts = restarts
        self.startedAt = startedAt
        self.startedWith = startedWith
        self.logFile = logFile
    }

    enum CodingKeys: String, CodingKey {
        case environment, name, wanted, pid, restarts, crashes
        case procStartTime = "proc_start_time", startedAt = "started_at", startedWith = "started_with", logFile = "log_file"
    }
}

/// The accessories' rows (`store.accessories`).
public struct AccessoryRecords: StoreView {
    let store: SlipwayStore

    public func all() throws(SlipwayError) -> [AccessoryRecord] {
        try read { db in try AccessoryRecord.order(Column("environment"), Column("name")).fetchAll(db) }
    }

    public func find(environment: String, name: String) throws(SlipwayError) -> AccessoryRecord? {
        try read { db in try AccessoryRecord.fetchOne(db, key: ["environment": environment, "name": name]) }
    }

    public func save(_ record: AccessoryRecord) throws(SlipwayError) {
        try write { db in try record.save(db) }
    }

    /// Whether the accessory is wanted up, with its audit entry in one transaction (`accessory start|stop|restart`):
    /// written before the process is started or stopped, so a crash in between is finished by the next pass.
    public func setWanted(_ wanted: Bool, _ record: AccessoryRecord, audit note: AuditNote) throws(SlipwayError) {
        var changed = record
        changed.wanted = wanted
        try write(audited: note, target: "\(record.environment)/\(record.name)", subject: "of accessory \(record.name)") { db in try changed.save(db) }
    }
}

extension SlipwayStore {
    /// The accessories' rows.
    public var accessories: AccessoryRecords { AccessoryRecords(store: self) }
}
