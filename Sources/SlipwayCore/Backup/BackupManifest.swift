import Foundation

/// `manifest.json`: what one backup holds, where it came from, and how to check it.
public struct BackupManifest: Codable, Sendable, Equatable {
    public struct Release: Codable, Sendable, Equatable {
        public var version: String
        public var digest: String?
        public var gitCommit: String?
        public init(version: String, digest: String?, gitCommit: String?) {
            self.version = version
            self.digest = digest
            self.gitCommit = gitCommit
        }
        enum CodingKeys: String, CodingKey { case version, digest, gitCommit = "git_commit" }
    }

    /// One source's archive.
    public struct Entry: Codable, Sendable, Equatable {
        public var source: String
        /// sqlite, postgres, mysql or directory.
        public var kind: String
        public var file: String
        /// Bytes stored (after compression and encryption).
        public var size: Int64
        public var sha256: String
        /// zstd, gzip or none.
        public var compression: String
        public var encrypted: Bool
        /// The program that produced the data and its version, e.g. "pg_dump (PostgreSQL) 15.18".
        public var tool: String
        public var startedAt: Date
        public var finishedAt: Date
        public var durationMs: Int
        /// Rows per table at the moment of the backup (databases only).
        public var rowCounts: [String: Int64]?
        /// True when the counts come from the same snapshot as the data (SQLite, PostgreSQL).
        public var rowCountsExact: Bool?
        /// Regular files archived (directories only).
        public var fileCount: Int?
        /// How the archive is laid out when a kind has more than one way (PostgreSQL: `copy` for the tables' rows as
        /// binary COPY beside a pg_dump of the rest; absent for a plain `pg_dump -Fc` archive of older backups).
        public var format: String?

        public static let postgresCopyFormat = "copy"

        public init(source: String, kind: String, file: String, size: Int64, sha256: String, compression: String, encrypted: Bool,
                    tool: String, startedAt: Date, finishedAt: Date, rowCounts: [String: Int64]? = nil, rowCountsExact: Bool? = nil,
                    fileCount: Int? = nil) {
            self.source = source
            self.kind = kind
            self.file = file
            self.size = size
            self.sha256 = sha256
            self.compression = compression
            self.encrypted = encrypted
            self.tool = tool
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.durationMs = Int(finishedAt.timeIntervalSince(startedAt) * 1000)
            self.rowCounts = rowCounts
            self.rowCountsExact = rowCountsExact
            self.fileCount = fileCount
        }

        enum CodingKeys: String, CodingKey {
            case source, kind, file, size, sha256, compression, encrypted, tool
            case startedAt = "started_at", finishedAt = "finished_at", durationMs = "duration_ms"
            case rowCounts = "row_counts", rowCountsExact = "row_counts_exact", fileCount = "file_count", format
        }
    }

    /// How the archives are encrypted at rest (nil: they are not).
    public struct Encryption: Codable, Sendable, Equatable {
        public var algorithm: String
        /// The secret that holds the key (its name, never its value).
        public var keySecret: String
        /// A fingerprint of the key, to tell a wrong key from a damaged file.
        public var keyId: String
        public init(algorithm: String, keySecret: String, keyId: String) {
            self.algorithm = algorithm
            self.keySecret = keySecret
            self.keyId = keyId
        }
        enum CodingKeys: String, CodingKey { case algorithm, keySecret = "key_secret", keyId = "key_id" }
    }

    public var formatVersion: Int
    public var id: String
    public var app: String
    public var environment: String
    /// The release serving when the backup was taken (nil before the first deploy).
    public var release: Release?
    /// scheduled, manual, or before_deploy.
    public var reason: String
    /// For before_deploy: the deployment and the version it was about to deploy.
    public var deploymentId: Int64?
    public var beforeDeployOf: String?
    public var entries: [Entry]
    public var encryption: Encryption?
    public var startedAt: Date
    public var finishedAt: Date
    public var durationMs: Int

    public init(id: String, app: String, environment: String, release: Release?, reason: String, deploymentId: Int64?,
                beforeDeployOf: String?, entries: [Entry], encryption: Encryption? = nil, startedAt: Date, finishedAt: Date) {
        self.encryption = encryption
        self.formatVersion = 1
        self.id = id
        self.app = app
        self.environment = environment
        self.release = release
        self.reason = reason
        self.deploymentId = deploymentId
        self.beforeDeployOf = beforeDeployOf
        self.entries = entries
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.durationMs = Int(finishedAt.timeIntervalSince(startedAt) * 1000)
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", id, app, environment, release, reason
        case deploymentId = "deployment_id", beforeDeployOf = "before_deploy_of", entries, encryption
        case startedAt = "started_at", finishedAt = "finished_at", durationMs = "duration_ms"
    }

    public var totalSize: Int64 { entries.reduce(0) { $0 + $1.size } }

    public func encoded() throws(SlipwayError) -> Data {
        let e = SlipwayJSON.encoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try SlipwayJSON.encode(self, with: e, what: "the backup manifest")
    }

    public static func decode(_ data: Data, from place: String) throws(SlipwayError) -> BackupManifest {
        do { return try SlipwayJSON.decoder().decode(BackupManifest.self, from: data) } catch {
            throw SlipwayError(.failed, "the manifest at \(place) is not valid; the backup is damaged", cause: error)
        }
    }

    /// `<env>-<UTC yyyyMMdd-HHmmss>-<4 hex>`: sorts by time, unique enough for one host.
    public static func newID(environment: String, at date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return "\(environment)-\(f.string(from: date))-\(String(format: "%04x", UInt16.random(in: 0...UInt16.max)))"
    }
}
