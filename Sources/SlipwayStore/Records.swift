import Foundation
import GRDB
import SlipwayCore

/// An instance row: what the API shows plus the process start time that identifies the pid.
public struct InstanceRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "instances"
    public var id: Int64?
    public var environment: String
    public var release: String
    public var slot: Int
    public var port: Int
    public var pid: Int32
    public var procStartTime: Int64
    public var state: InstanceState
    public var ready: Bool
    public var restarts: Int
    public var startedAt: Date
    public var logFile: String

    public init(environment: String, release: String, slot: Int, port: Int, pid: Int32, procStartTime: Int64,
                state: InstanceState, ready: Bool = false, restarts: Int = 0, startedAt: Date = Date(), logFile: String) {
        self.environment = environment
        self.release = release
        self.slot = slot
        self.port = port
        self.pid = pid
        self.procStartTime = procStartTime
        self.state = state
        self.ready = ready
        self.restarts = restarts
        self.startedAt = startedAt
        self.logFile = logFile
    }

    enum CodingKeys: String, CodingKey {
        case id, environment, release, slot, port, pid, state, ready, restarts
        case procStartTime = "proc_start_time", startedAt = "started_at", logFile = "log_file"
    }

    public enum Columns {
        public static let environment = Column(CodingKeys.environment), release = Column(CodingKeys.release), slot = Column(CodingKeys.slot)
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    public var info: InstanceInfo {
        InstanceInfo(id: id ?? 0, environment: environment, release: release, slot: slot, port: port, pid: pid,
                     state: state, ready: ready, restarts: restarts, startedAt: startedAt, logFile: logFile)
    }
}

/// Per-environment state: what serves, what came before, what is kept warm.
public struct EnvironmentRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "environments"
    public var name: String
    public var currentRelease: String?
    public var previousRelease: String?
    /// Instances wanted, when `slipway scale` overrode the config.
    public var instances: Int?
    /// Until when the previous release's instances stay warm.
    public var standbyUntil: Date?
    /// Set while the environment is in maintenance (503 page, or requests held).
    public var maintenance: MaintenanceMode?
    /// While a rollout moves traffic step by step: each release's pool weight (nil: the current release alone).
    public var rollout: [String: Int]?
    /// The post-deploy watch in progress, if any.
    public var watch: WatchInfo?
    /// Releases rolled back by the watch or analysis, with why: deploying one again needs `--force`.
    public var badReleases: [String: String]?
    /// The canary in progress, if any.
    public var canary: CanaryInfo?
    /// The canary analysis's evidence as of its last interval (the sequential test's state), for a daemon restart
    /// to resume from. Kept beside `canary`, not in it: `CanaryInfo` travels in every status answer.
    public var canaryEvidence: CanaryJudge.Evidence?

    public init(name: String, currentRelease: String? = nil, previousRelease: String? = nil, instances: Int? = nil, standbyUntil: Date? = nil,
                maintenance: MaintenanceMode? = nil) {
        self.maintenance = maintenance
        self.name = name
        self.currentRelease = currentRelease
        self.previousRelease = previousRelease
        self.instances = instances
        self.standbyUntil = standbyUntil
    }

    enum CodingKeys: String, CodingKey {
        case name, instances, maintenance, rollout, watch, canary
        case canaryEvidence = "canary_evidence"
        case badReleases = "bad_releases"
        case currentRelease = "current_release", previousRelease = "previous_release", standbyUntil = "standby_until"
    }
}

struct AuditRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "audit"
    var id: Int64?
    var time: Date
    var actor: String
    var action: String
    var target: String
    var outcome: String
    var detail: String
    var prevHash: String
    var hash: String
    var onBehalfOf: String?
    var role: String?
    var source: String?
    var requestId: String?
    var before: String?
    var after: String?

    enum CodingKeys: String, CodingKey {
        case id, time, actor, action, target, outcome, detail, hash, role, source, before, after
        case prevHash = "prev_hash", onBehalfOf = "on_behalf_of", requestId = "request_id"
    }

    enum Columns {
        static let id = Column(CodingKeys.id), time = Column(CodingKeys.time), target = Column(CodingKeys.target)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
