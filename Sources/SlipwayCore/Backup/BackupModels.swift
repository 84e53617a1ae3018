import Foundation

/// What a scratch restore found.
public struct RestoreCheck: Sendable, Codable, Equatable {
    public var source: String
    public var ok: Bool
    public var detail: String
    public var rowCounts: [String: Int64]?

    public init(source: String, ok: Bool, detail: String, rowCounts: [String: Int64]? = nil) {
        self.source = source
        self.ok = ok
        self.detail = detail
        self.rowCounts = rowCounts
    }

    enum CodingKeys: String, CodingKey { case source, ok, detail, rowCounts = "row_counts" }
}

/// The outcome of `backup verify` for one backup.
public struct VerifyReport: Sendable, Codable, Equatable {
    public struct FileCheck: Sendable, Codable, Equatable {
        public var location: String
        public var file: String
        public var ok: Bool
        public var detail: String
        public init(location: String, file: String, ok: Bool, detail: String) {
            self.location = location
            self.file = file
            self.ok = ok
            self.detail = detail
        }
    }

    public var id: String
    public var ok: Bool
    public var files: [FileCheck]
    public var restores: [RestoreCheck]

    public init(id: String, ok: Bool, files: [FileCheck], restores: [RestoreCheck]) {
        self.id = id
        self.ok = ok
        self.files = files
        self.restores = restores
    }

    enum CodingKeys: String, CodingKey { case id, ok, files, restores = "restore_tests" }
}

/// A backup as `backup list` shows it.
public struct BackupInfo: Sendable, Codable, Equatable {
    public var id: String
    public var environment: String
    public var createdAt: Date
    public var reason: String
    public var releaseVersion: String?
    public var gitCommit: String?
    public var deploymentId: Int64?
    public var beforeDeployOf: String?
    public var size: Int64
    public var durationMs: Int
    public var sources: [String]
    /// Stores holding a copy.
    public var locations: [String]
    public var verifiedAt: Date?
    public var verifyOk: Bool?
    public var manifest: BackupManifest

    public init(manifest: BackupManifest, locations: [String], verifiedAt: Date? = nil, verifyOk: Bool? = nil) {
        id = manifest.id
        environment = manifest.environment
        createdAt = manifest.startedAt
        reason = manifest.reason
        releaseVersion = manifest.release?.version
        gitCommit = manifest.release?.gitCommit
        deploymentId = manifest.deploymentId
        beforeDeployOf = manifest.beforeDeployOf
        size = manifest.totalSize
        durationMs = manifest.durationMs
        sources = manifest.entries.map(\.source)
        self.locations = locations
        self.verifiedAt = verifiedAt
        self.verifyOk = verifyOk
        self.manifest = manifest
    }

    enum CodingKeys: String, CodingKey {
        case id, environment, createdAt = "created_at", reason, releaseVersion = "release_version", gitCommit = "git_commit"
        case deploymentId = "deployment_id", beforeDeployOf = "before_deploy_of", size, durationMs = "duration_ms", sources, locations
        case verifiedAt = "verified_at", verifyOk = "verify_ok", manifest
    }
}

/// One retention decision, as `backup prune` prints it.
public struct PruneDecision: Sendable, Codable, Equatable {
    public var id: String
    public var createdAt: Date
    public var keep: Bool
    public var reasons: [String]
    public init(id: String, createdAt: Date, keep: Bool, reasons: [String]) {
        self.id = id
        self.createdAt = createdAt
        self.keep = keep
        self.reasons = reasons
    }
    enum CodingKeys: String, CodingKey { case id, createdAt = "created_at", keep, reasons }
}

public struct PruneReport: Sendable, Codable, Equatable {
    public var environment: String
    public var dryRun: Bool
    public var decisions: [PruneDecision]
    public var removed: [String]
    public init(environment: String, dryRun: Bool, decisions: [PruneDecision], removed: [String]) {
        self.environment = environment
        self.dryRun = dryRun
        self.decisions = decisions
        self.removed = removed
    }
    enum CodingKeys: String, CodingKey { case environment, dryRun = "dry_run", decisions, removed }
}

public struct RestoreReport: Sendable, Codable, Equatable {
    public var id: String
    public var sources: [String]
    public var target: String
    public var durationMs: Int
    public init(id: String, sources: [String], target: String, durationMs: Int) {
        self.id = id
        self.sources = sources
        self.target = target
        self.durationMs = durationMs
    }
    enum CodingKeys: String, CodingKey { case id, sources, target, durationMs = "duration_ms" }
}

// MARK: Requests

public struct BackupCreateBody: Sendable, Codable {
    public var environment: String?
    public var source: String?
    public init(environment: String?, source: String?) {
        self.environment = environment
        self.source = source
    }
}

public typealias BackupCreateRequest = Attributed<BackupCreateBody>

extension Attributed where Body == BackupCreateBody {
    public init(environment: String?, source: String?, actor: String) {
        self.init(BackupCreateBody(environment: environment, source: source), actor: actor)
    }
}

public struct BackupVerifyBody: Sendable, Codable {
    public var environment: String?
    /// One backup, or nil for all.
    public var id: String?
    public var restoreTest: Bool
    /// The continuous archives (`backup.continuous`) instead of backups.
    public var continuous: Bool?
    public init(environment: String?, id: String?, restoreTest: Bool, continuous: Bool? = nil) {
        self.environment = environment
        self.id = id
        self.restoreTest = restoreTest
        self.continuous = continuous
    }
    enum CodingKeys: String, CodingKey { case environment, id, restoreTest = "restore_test", continuous }
}

public typealias BackupVerifyRequest = Attributed<BackupVerifyBody>

extension Attributed where Body == BackupVerifyBody {
    public init(environment: String?, id: String?, restoreTest: Bool, continuous: Bool? = nil, actor: String) {
        self.init(BackupVerifyBody(environment: environment, id: id, restoreTest: restoreTest, continuous: continuous), actor: actor)
    }
}

public struct BackupRestoreBody: Sendable, Codable {
    /// The backup (empty with `point`).
    public var id: String
    public var source: String?
    /// A path or database URL; nil restores in place.
    public var to: String?
    /// From the continuous archive instead of a backup: `latest`, or a time (ISO 8601, `2026-12-06T10:15:02Z`).
    public var point: String?
    /// The environment of a `point` restore (default: the only one, or production).
    public var environment: String?
    /// From the continuous archive, to just before deployment N began migrating (`--before-deployment N`).
    public var beforeDeployment: Int64?

    public init(id: String, source: String?, to: String?, point: String? = nil, environment: String? = nil, beforeDeployment: Int64? = nil) {
        self.id = id
        self.source = source
        self.to = to
        self.point = point
        self.environment = environment
        self.beforeDeployment = beforeDeployment
    }

    enum CodingKeys: String, CodingKey {
        case id, source, to, point, environment
        case beforeDeployment = "before_deployment"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
        source = try c.decodeIfPresent(String.self, forKey: .source)
        to = try c.decodeIfPresent(String.self, forKey: .to)
        point = try c.decodeIfPresent(String.self, forKey: .point)
        environment = try c.decodeIfPresent(String.self, forKey: .environment)
        beforeDeployment = try c.decodeIfPresent(Int64.self, forKey: .beforeDeployment)
    }
}

public typealias BackupRestoreRequest = Attributed<BackupRestoreBody>

extension Attributed where Body == BackupRestoreBody {
    public init(id: String, source: String?, to: String?, actor: String) {
        self.init(BackupRestoreBody(id: id, source: source, to: to), actor: actor)
    }
}

public struct BackupPruneBody: Sendable, Codable {
    public var environment: String?
    public var dryRun: Bool
    public init(environment: String?, dryRun: Bool) {
        self.environment = environment
        self.dryRun = dryRun
    }
    enum CodingKeys: String, CodingKey { case environment, dryRun = "dry_run" }
}

public typealias BackupPruneRequest = Attributed<BackupPruneBody>

extension Attributed where Body == BackupPruneBody {
    public init(environment: String?, dryRun: Bool, actor: String) {
        self.init(BackupPruneBody(environment: environment, dryRun: dryRun), actor: actor)
    }
}

public struct MigrateDryRunResult: Sendable, Codable, Equatable {
    public var release: String
    public var command: String
    public var status: Int32
    public var output: String
    public init(release: String, command: String, status: Int32, output: String) {
        self.release = release
        self.command = command
        self.status = status
        self.output = output
    }
}

/// What `backup list --rescan` found when it read every store's manifests.
public struct RescanReport: Sendable, Codable, Equatable {
    public var environment: String
    /// Backups found in a store but missing from the index (e.g. after losing state.db): now listed.
    public var imported: [String]
    /// Backups whose set of copies changed (a copy appeared or disappeared).
    public var updated: [String]
    /// Backups in the index that no store holds any more: removed from the index.
    public var forgotten: [String]
    /// Stores that could not be read (nothing is forgotten then).
    public var errors: [String]

    public init(environment: String, imported: [String], updated: [String], forgotten: [String], errors: [String]) {
        self.environment = environment
        self.imported = imported
        self.updated = updated
        self.forgotten = forgotten
        self.errors = errors
    }
}

public struct BackupRescanBody: Sendable, Codable {
    public var environment: String?
    public init(environment: String?) {
        self.environment = environment
    }
}

public typealias BackupRescanRequest = Attributed<BackupRescanBody>

extension Attributed where Body == BackupRescanBody {
    public init(environment: String?, actor: String) {
        self.init(BackupRescanBody(environment: environment), actor: actor)
    }
}
