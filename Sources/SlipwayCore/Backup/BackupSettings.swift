import Foundation

/// The `backup:` section of an environment: what to back up, where to keep it, when, and for how long.
public struct BackupSettings: Sendable, Equatable {
    public var sources: [BackupSourceConfig]
    public var stores: [BackupStoreConfig]
    /// Every deploy of the environment takes a backup first.
    public var beforeDeploy: Bool
    /// Every rollback of the environment first takes a backup of the data as it is (`before_rollback`).
    public var beforeRollback = false
    public var schedule: CronSchedule?
    /// IANA zone the schedules and the retention calendar use.
    public var timezone: TimeZone
    public var retention: RetentionPolicy
    /// A secret holding the key for AES-GCM encryption at rest.
    public var encryptionKeySecret: String?
    public var verify: VerifySettings
    /// When the daemon runs a restore drill (`backup.drill.schedule`).
    public var drillSchedule: CronSchedule?
    public var rtoTarget: Duration?
    public var rpoTarget: Duration?
    /// `backup.continuous` (nil: off, unless a source turns it on for itself).
    public var continuous: ContinuousSettings?

    public init(
        sources: [BackupSourceConfig], stores: [BackupStoreConfig], beforeDeploy: Bool = false, schedule: CronSchedule? = nil,
        timezone: TimeZone = TimeZone(identifier: "UTC")!, retention: RetentionPolicy = .init(), encryptionKeySecret: String? = nil,
        verify: VerifySettings = .init(), drillSchedule: CronSchedule? = nil, rtoTarget: Duration? = nil, rpoTarget: Duration? = nil
    ) {
        self.drillSchedule = drillSchedule
        self.sources = sources
        self.stores = stores
        self.beforeDeploy = beforeDeploy
        self.schedule = schedule
        self.timezone = timezone
        self.retention = retention
        self.encryptionKeySecret = encryptionKeySecret
        self.verify = verify
        self.rtoTarget = rtoTarget
        self.rpoTarget = rpoTarget
    }

    /// Names of every secret the backup section refers to.
    public var secretNames: [String] {
        var names = sources.compactMap(\.kind.urlSecret)
        for store in stores {
            if case .s3(let s3) = store { names += [s3.accessKeySecret, s3.secretKeySecret] }
        }
        if let encryptionKeySecret { names.append(encryptionKeySecret) }
        return names
    }
}

public struct BackupSourceConfig: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// An SQLite database file (absolute path), copied with the online backup API.
        case sqlite(path: String)
        /// A PostgreSQL database reached by the URL in the named secret, dumped with `pg_dump -Fc`.
        case postgres(urlSecret: String)
        /// A MySQL/MariaDB database reached by the URL in the named secret, dumped with `mysqldump`.
        case mysql(urlSecret: String)
        /// A directory (absolute path), archived with tar.
        case directory(path: String)

        public var name: String {
            switch self {
            case .sqlite: "sqlite"
            case .postgres: "postgres"
            case .mysql: "mysql"
            case .directory: "directory"
            }
        }

        public var urlSecret: String? {
            switch self {
            case .postgres(let s), .mysql(let s): s
            case .sqlite, .directory: nil
            }
        }
    }

    public var name: String
    public var kind: Kind
    /// `continuous: true | false` on the source (nil: as `backup.continuous` says).
    public var continuous: Bool?

    public init(name: String, kind: Kind, continuous: Bool? = nil) {
        self.name = name
        self.kind = kind
        self.continuous = continuous
    }
}

public enum BackupStoreConfig: Sendable, Equatable {
    case local(path: String)
    case s3(S3StoreConfig)

    public var label: String {
        switch self {
        case .local(let path): "local:\(path)"
        case .s3(let s): "s3://\(s.bucket)/\(s.prefix)"
        }
    }
}

public struct S3StoreConfig: Sendable, Equatable {
    public var bucket: String
    /// `https://host[:port]`; AWS's regional endpoint when absent.
    public var endpoint: String?
    public var region: String
    public var prefix: String
    public var accessKeySecret: String
    public var secretKeySecret: String
    /// Bucket in the path (`endpoint/bucket/key`) rather than the host name; the default with a custom endpoint.
    public var pathStyle: Bool

    public init(bucket: String, endpoint: String?, region: String, prefix: String, accessKeySecret: String, secretKeySecret: String, pathStyle: Bool) {
        self.bucket = bucket
        self.endpoint = endpoint
        self.region = region
        self.prefix = prefix
        self.accessKeySecret = accessKeySecret
        self.secretKeySecret = secretKeySecret
        self.pathStyle = pathStyle
    }
}

/// Retention as restic does it: the last N, plus the newest backup in each of the last N hours/days/weeks/months/years.
public struct RetentionPolicy: Sendable, Equatable, Codable {
    public var keepLast: Int
    public var keepHourly: Int
    public var keepDaily: Int
    public var keepWeekly: Int
    public var keepMonthly: Int
    public var keepYearly: Int

    public init(keepLast: Int = 7, keepHourly: Int = 0, keepDaily: Int = 0, keepWeekly: Int = 0, keepMonthly: Int = 0, keepYearly: Int = 0) {
        self.keepLast = keepLast
        self.keepHourly = keepHourly
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
        self.keepYearly = keepYearly
    }

    enum CodingKeys: String, CodingKey {
        case keepLast = "keep_last", keepHourly = "keep_hourly", keepDaily = "keep_daily"
        case keepWeekly = "keep_weekly", keepMonthly = "keep_monthly", keepYearly = "keep_yearly"
    }
}

public struct VerifySettings: Sendable, Equatable {
    public var schedule: CronSchedule?
    public var restoreTest: Bool
    public init(schedule: CronSchedule? = nil, restoreTest: Bool = false) {
        self.schedule = schedule
        self.restoreTest = restoreTest
    }
}

/// The `migrate:` section: commands run in the new release's directory before traffic moves.
public struct MigrateSettings: Sendable, Equatable {
    public var up: String
    public var down: String?
    public var dryRun: String?
    public var timeout: Duration
    /// What a deployment whose migration ran does when it is then refused or rolled back (nil: `down` with
    /// `migrate.down`, else `restore` when a pre-deploy backup exists, else `keep`).
    public var onFailure: OnFailure?

    public enum OnFailure: String, Sendable, Equatable {
        /// Run `migrate.down`.
        case down
        /// Restore the pre-deploy backup, the router holding requests meanwhile.
        case restore
        /// Leave the new schema under the old code.
        case keep
    }

    public init(up: String, down: String? = nil, dryRun: String? = nil, timeout: Duration = .seconds(600)) {
        self.up = up
        self.down = down
        self.dryRun = dryRun
        self.timeout = timeout
    }
}
