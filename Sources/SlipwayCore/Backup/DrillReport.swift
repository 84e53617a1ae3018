import Foundation

/// The outcome of a restore drill: the newest backup restored into scratch, the release started on it
/// and health-checked, with the time each phase of a real recovery takes.
public struct DrillReport: Sendable, Codable, Equatable {
    public struct Phase: Sendable, Codable, Equatable {
        /// download, decompress, restore, integrity, app_start, health.
        public var name: String
        public var ms: Int
        public var detail: String
        public init(name: String, ms: Int, detail: String) {
            self.name = name
            self.ms = ms
            self.detail = detail
        }
    }

    public var id: Int64?
    public var environment: String
    public var backupId: String
    public var backupCreatedAt: Date
    /// The release started on the restored data (nil: none exists yet, so app phases were skipped).
    public var release: String?
    public var startedAt: Date
    public var ok: Bool
    public var phases: [Phase]
    /// How long a recovery from this backup takes: the sum of the phases a recovery goes through (all but
    /// `integrity`, the drill's own check of what it restored, which a recovery does not wait for).
    public var rtoMs: Int
    /// Age of the backup when the drill started: the writes a recovery would lose. A drill of the continuous
    /// archive (`backup_id` `continuous …`) measures it: how far the archive was behind the data when it began.
    public var rpoSeconds: Int
    public var rtoTargetMs: Int?
    public var rpoTargetSeconds: Int?
    public var rtoMet: Bool?
    public var rpoMet: Bool?
    public var checks: [RestoreCheck]
    /// Why the drill failed, when it did.
    public var message: String?
    public var logFile: String

    public init(environment: String, backupId: String, backupCreatedAt: Date, release: String?, startedAt: Date, phases: [Phase],
                rpoSeconds: Int, rtoTarget: Duration?, rpoTarget: Duration?, checks: [RestoreCheck], message: String?, logFile: String) {
        self.environment = environment
        self.backupId = backupId
        self.backupCreatedAt = backupCreatedAt
        self.release = release
        self.startedAt = startedAt
        self.phases = phases
        let rto = phases.filter { !Self.checkOnly.contains($0.name) }.reduce(0) { $0 + $1.ms }
        let rtoTargetMs = rtoTarget.map { Int($0.milliseconds) }
        let rpoTargetSeconds = rpoTarget.map { Int($0.components.seconds) }
        let rtoMet = rtoTargetMs.map { rto <= $0 }
        let rpoMet = rpoTargetSeconds.map { rpoSeconds <= $0 }
        rtoMs = rto
        self.rpoSeconds = rpoSeconds
        self.rtoTargetMs = rtoTargetMs
        self.rpoTargetSeconds = rpoTargetSeconds
        self.rtoMet = rtoMet
        self.rpoMet = rpoMet
        self.checks = checks
        self.message = message
        self.logFile = logFile
        ok = message == nil && checks.allSatisfy(\.ok) && rtoMet != false && rpoMet != false
    }

    /// Phases a drill times that a recovery does not go through: not part of the RTO.
    public static let checkOnly: Set<String> = ["integrity"]

    enum CodingKeys: String, CodingKey {
        case id, environment, backupId = "backup_id", backupCreatedAt = "backup_created_at", release, startedAt = "started_at", ok, phases
        case rtoMs = "rto_ms", rpoSeconds = "rpo_seconds", rtoTargetMs = "rto_target_ms", rpoTargetSeconds = "rpo_target_seconds"
        case rtoMet = "rto_met", rpoMet = "rpo_met", checks, message, logFile = "log_file"
    }
}

public struct DrillBody: Sendable, Codable {
    public var environment: String?
    /// From the continuous archive instead of the newest backup: `latest`, or a time (ISO 8601).
    public var point: String?
    public init(environment: String?, point: String? = nil) {
        self.environment = environment
        self.point = point
    }
}

public typealias DrillRequest = Attributed<DrillBody>

extension Attributed where Body == DrillBody {
    public init(environment: String?, point: String? = nil, actor: String) {
        self.init(DrillBody(environment: environment, point: point), actor: actor)
    }
}
