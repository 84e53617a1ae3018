import Foundation

/// What `rollback VERSION --with-data` would do, shown before it does it: the backup it restores and
/// what changed in each source since that backup (the writes the rollback throws away).
public struct DataRollbackPlan: Sendable, Codable, Equatable {
    public var environment: String
    /// The release the rollback goes back to.
    public var version: String
    public var currentRelease: String?
    /// The backup taken before the deploy that replaced `version`.
    public var backup: BackupInfo
    /// Seconds between the backup and now: the window whose writes are lost.
    public var ageSeconds: Int
    public var changes: [SourceChange]
    /// New requests are held (the router's pause) from the start of the restore until the switch; each
    /// waits at most this long, then gets the 503 page with Retry-After.
    public var holdLimitMs: Int64?
    /// With continuous archiving: the point just before the deploy this rollback undoes (the moment its migration
    /// began), which keeps the writes made between the backup and then.
    public var pointBefore: PointOffer?

    public struct PointOffer: Sendable, Codable, Equatable {
        public var deploymentId: Int64
        public var time: Date
        /// The command that restores it (the rollback itself restores the backup).
        public var command: String

        public init(deploymentId: Int64, time: Date, command: String) {
            self.deploymentId = deploymentId
            self.time = time
            self.command = command
        }

        enum CodingKeys: String, CodingKey {
            case time, command
            case deploymentId = "deployment_id"
        }
    }

    public init(environment: String, version: String, currentRelease: String?, backup: BackupInfo, ageSeconds: Int, changes: [SourceChange],
                holdLimitMs: Int64? = nil) {
        self.holdLimitMs = holdLimitMs
        self.environment = environment
        self.version = version
        self.currentRelease = currentRelease
        self.backup = backup
        self.ageSeconds = ageSeconds
        self.changes = changes
    }

    enum CodingKeys: String, CodingKey {
        case environment, version, currentRelease = "current_release", backup, ageSeconds = "age_seconds", changes
        case holdLimitMs = "hold_limit_ms", pointBefore = "point_before"
    }
}

/// How one source differs now from a backup of it.
public struct SourceChange: Sendable, Codable, Equatable {
    public struct Table: Sendable, Codable, Equatable {
        public var name: String
        /// Rows in the backup (nil: the table did not exist then).
        public var backupRows: Int64?
        /// Rows now (nil: the table no longer exists).
        public var currentRows: Int64?
        public init(name: String, backupRows: Int64?, currentRows: Int64?) {
            self.name = name
            self.backupRows = backupRows
            self.currentRows = currentRows
        }
        enum CodingKeys: String, CodingKey { case name, backupRows = "backup_rows", currentRows = "current_rows" }
    }

    public var source: String
    public var kind: String
    /// One line for people, e.g. "orders: 1,204 → 1,250 rows (+46)".
    public var summary: String
    /// Tables whose row count differs (databases).
    public var tables: [Table]
    /// Files created or modified after the backup started (directories).
    public var changedFiles: Int?

    public init(source: String, kind: String, summary: String, tables: [Table] = [], changedFiles: Int? = nil) {
        self.source = source
        self.kind = kind
        self.summary = summary
        self.tables = tables
        self.changedFiles = changedFiles
    }

    enum CodingKeys: String, CodingKey { case source, kind, summary, tables, changedFiles = "changed_files" }
}
