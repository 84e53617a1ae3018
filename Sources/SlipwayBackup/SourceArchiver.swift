import Foundation
import SlipwayCore
import SlipwayRuntime

/// What an archiver needs: where to write, where to log, how to compress, the secrets' values.
public struct ArchiveContext: Sendable {
    public var staging: String
    public var logFile: String
    public var codec: Codec
    /// Secret values by name (only those the backup section names).
    public var secrets: [String: String]
    /// A scratch directory for temporary files.
    public var scratch: String
    /// Whether the archivers hash what they write. Off when the archive is encrypted next: the manifest
    /// then records the sha256 of the sealed file, taken as it is written, and one pass is saved.
    public var checksumArchive = true

    public init(staging: String, logFile: String, codec: Codec, secrets: [String: String], scratch: String) {
        self.staging = staging
        self.logFile = logFile
        self.codec = codec
        self.secrets = secrets
        self.scratch = scratch
    }

    func url(_ secret: String) throws(SlipwayError) -> DatabaseURL {
        guard let value = secrets[secret] else {
            throw .usage("secret \(secret) is not set: export it in the daemon's environment or add \(secret)=… to secrets.env in the root")
        }
        return try DatabaseURL(parsing: value, secret: secret)
    }
}

/// Where a restore writes.
public enum RestoreTarget: Sendable, Equatable {
    /// Over the source itself (the configured file, directory or database).
    case inPlace
    /// A file or directory path (SQLite and directory sources).
    case path(String)
    /// Another database on a server (PostgreSQL and MySQL sources); the password may come from the source's secret.
    case url(String)
}

/// Dispatches to the archiver for each kind of source.
public enum SourceArchiver {
    /// The sha256 the manifest records for the archive `file` ("" when the encrypted file's is recorded instead).
    static func checksum(_ file: String, _ context: ArchiveContext) async throws(SlipwayError) -> String {
        context.checksumArchive ? try await Checksum.sha256(path: file) : ""
    }

    public static func backup(_ source: BackupSourceConfig, context: ArchiveContext) async throws(SlipwayError) -> BackupManifest.Entry {
        switch source.kind {
        case .sqlite(let path): try await SQLiteArchiver.backup(name: source.name, path: path, context: context)
        case .postgres(let secret): try await PostgresArchiver.backup(name: source.name, url: context.url(secret), context: context)
        case .mysql(let secret): try await MySQLArchiver.backup(name: source.name, url: context.url(secret), context: context)
        case .directory(let path): try await DirectoryArchiver.backup(name: source.name, path: path, context: context)
        }
    }

    /// Restores `entry` (its archive at `file`) to `target`, changing nothing before `verified` says
    /// the archive matches its checksum (SQLite unpacks meanwhile, PostgreSQL restores into a new database meanwhile; the others wait first).
    public static func restore(_ entry: BackupManifest.Entry, file: String, source: BackupSourceConfig, to target: RestoreTarget,
                               context: ArchiveContext, verified: PendingChecksum) async throws(SlipwayError) {
        let codec = Codec(rawValue: entry.compression) ?? .none
        if case .sqlite(let path) = source.kind {
            let into = try pathTarget(target, default: path, kind: "sqlite")
            try await SQLiteArchiver.restore(file: file, codec: codec, to: into, context: context, verified: verified)
            return
        }
        if case .postgres(let secret) = source.kind {
            // Into a new database swapped in by rename when the role may (checked meanwhile); else in place, one transaction.
            let url = try urlTarget(target, source: try context.url(secret), secret: secret)
            if let database = await PostgresArchiver.swappable(url, context: context) {
                return try await PostgresArchiver.restoreBySwap(file: file, codec: codec, format: entry.format, jobs: PostgresArchiver.withJobs(entry),
                                                                to: url, database: database, context: context, verified: verified)
            }
            try await verified.wait()
            return try await PostgresArchiver.restore(file: file, codec: codec, format: entry.format, to: url, context: context)
        }
        try await verified.wait()
        switch source.kind {
        case .sqlite, .postgres:
            break
        case .directory(let path):
            try await DirectoryArchiver.restore(file: file, codec: codec, to: try pathTarget(target, default: path, kind: "directory"), context: context)
        case .mysql(let secret):
            let url = try urlTarget(target, source: try context.url(secret), secret: secret)
            try await MySQLArchiver.restore(file: file, codec: codec, to: url, context: context)
        }
    }

    /// Restores into scratch (a temp file, directory or database), checks integrity and row counts
    /// against the manifest, and removes the scratch copy.
    public static func restoreTest(_ entry: BackupManifest.Entry, file: String, source: BackupSourceConfig,
                                   context: ArchiveContext) async throws(SlipwayError) -> RestoreCheck {
        let codec = Codec(rawValue: entry.compression) ?? .none
        switch source.kind {
        case .sqlite: return try await SQLiteArchiver.restoreTest(entry, file: file, codec: codec, context: context)
        case .directory: return try await DirectoryArchiver.restoreTest(entry, file: file, codec: codec, context: context)
        case .postgres(let secret): return try await PostgresArchiver.restoreTest(entry, file: file, codec: codec, server: try context.url(secret), context: context)
        case .mysql(let secret): return try await MySQLArchiver.restoreTest(entry, file: file, codec: codec, server: try context.url(secret), context: context)
        }
    }

    static func pathTarget(_ target: RestoreTarget, default path: String, kind: String) throws(SlipwayError) -> String {
        switch target {
        case .inPlace: return path
        case .path(let p): return p
        case .url: throw .usage("a \(kind) source restores to a path (--to PATH), not a URL")
        }
    }

    static func urlTarget(_ target: RestoreTarget, source: DatabaseURL, secret: String) throws(SlipwayError) -> DatabaseURL {
        switch target {
        case .inPlace: return source
        case .path: throw .usage("a database source restores to a URL (--to postgres://… or mysql://…), not a path")
        case .url(let text):
            var url = try DatabaseURL(parsing: text, secret: "--to")
            // Same server and user: reuse the source's password rather than asking for it on the command line.
            if url.password == nil, url.user == source.user, url.host == source.host { url.password = source.password }
            return url
        }
    }

    /// Compares counts restored with the manifest's.
    static func compare(_ expected: [String: Int64]?, _ actual: [String: Int64], exact: Bool) -> (ok: Bool, detail: String) {
        guard let expected else { return (true, "\(actual.count) table(s)") }
        var diffs: [String] = []
        for (table, n) in expected.sorted(by: { $0.key < $1.key }) where actual[table] != n {
            diffs.append("\(table): \(actual[table].map(String.init) ?? "missing") rows, manifest says \(n)")
        }
        for table in actual.keys.sorted() where expected[table] == nil { diffs.append("\(table): not in the manifest") }
        let rows = actual.values.reduce(0, +)
        if diffs.isEmpty { return (true, "\(actual.count) table(s), \(rows) row(s), counts match the manifest") }
        if !exact { return (true, "\(actual.count) table(s), \(rows) row(s); counts taken apart from the dump differ: \(diffs.joined(separator: "; "))") }
        return (false, "row counts differ from the manifest: \(diffs.joined(separator: "; "))")
    }

    /// A unique name for a temporary file or directory in scratch.
    static func scratchName(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }
}
