import Foundation
import SlipwayCore
import SlipwayRuntime

/// A backup restored into scratch for a drill: where the app finds it, and what each phase took.
public struct DrillRestore: Sendable {
    /// Phases download, decompress, restore, integrity (summed over the sources).
    public var phases: [DrillReport.Phase]
    public var checks: [RestoreCheck]
    /// The scratch copy of the shared directory: the app's SLIPWAY_SHARED during the drill.
    public var sharedDirectory: String
    /// Secrets that point the app at the scratch databases (url_secret → scratch URL).
    public var environment: [String: String]
    /// Scratch databases to drop afterwards.
    var databases: [(kind: BackupSourceConfig.Kind, url: DatabaseURL)]
    var directory: String
}

extension BackupService {
    /// Restores every source of `manifest` into scratch as a real recovery would (fetch and check,
    /// decompress, restore, integrity check), timing each phase. Files under `sharedDirectory` land at
    /// the same place under a scratch shared directory; databases go to scratch databases on the same server.
    public func drillRestore(_ manifest: BackupManifest, locations: [String]?, sharedDirectory: String,
                             log: String) async throws(SlipwayError) -> DrillRestore {
        let ctx = try context(staging: "\(workDirectory)/scratch", log: log)
        let dir = "\(ctx.scratch)/\(SourceArchiver.scratchName("drill"))"
        var result = DrillRestore(phases: [], checks: [], sharedDirectory: dir + "/shared", environment: [:], databases: [], directory: dir)
        var ms: [String: Int] = [:]
        var details: [String: [String]] = [:]
        func record(_ phase: String, _ since: ContinuousClock.Instant, _ detail: String) {
            let d = ContinuousClock.now - since
            ms[phase, default: 0] += Int(d.milliseconds)
            details[phase, default: []].append(detail)
        }
        do throws(SlipwayError) {
            try DirectoryArchiver.makeDirectory(result.sharedDirectory)
            for entry in manifest.entries {
                guard let source = settings.sources.first(where: { $0.name == entry.source }) else {
                    result.checks.append(RestoreCheck(source: entry.source, ok: false, detail: "source \(entry.source) is no longer configured"))
                    continue
                }
                let codec = Codec(rawValue: entry.compression) ?? .none
                var began = ContinuousClock.now
                let check = try await withFile(manifest, entry, locations: locations, scratch: ctx.scratch) { (file: String, checksum: PendingChecksum) async throws(SlipwayError) -> RestoreCheck in
                    // As a recovery does: the archive streams into the restore while its checksum is checked beside it.
                    record("download", began, "\(entry.source): \(entry.size) bytes")
                    began = ContinuousClock.now
                    var plain = file
                    if Self.drillNeedsPlain(entry, source: source), let stage = codec.decompressStage {
                        plain = "\(ctx.scratch)/\(SourceArchiver.scratchName("drill-plain"))"
                        try await ProcessPipeline([stage], input: file, output: plain, logFile: ctx.logFile).run()
                        record("decompress", began, "\(entry.source): \(codec.rawValue)")
                    } else {
                        record("decompress", began, "\(entry.source): \(codec == .none ? "none" : "streamed into the restore")")
                    }
                    defer { if plain != file { try? FileManager.default.removeItem(atPath: plain) } }
                    began = ContinuousClock.now
                    let restored = try await restoreForDrill(entry, file: plain, codec: plain == file ? codec : .none, source: source, into: &result,
                                                             sharedDirectory: sharedDirectory, context: ctx)
                    try await checksum.wait()
                    record("restore", began, "\(entry.source) → \(restored.label), sha256 ok")
                    began = ContinuousClock.now
                    let check = try await checkForDrill(entry, restored, context: ctx)
                    record("integrity", began, "\(entry.source): \(check.detail)")
                    return check
                }
                result.checks.append(check)
            }
        } catch {
            await cleanUp(result, log: log)
            throw error
        }
        for name in ["download", "decompress", "restore", "integrity"] {
            result.phases.append(.init(name: name, ms: ms[name] ?? 0, detail: (details[name] ?? []).joined(separator: "; ")))
        }
        return result
    }

    /// Where a drill restored one source.
    enum Restored {
        case sqlite(String)
        case directory(String)
        case postgres(DatabaseURL)
        case mysql(DatabaseURL)

        var label: String {
            switch self {
            case .sqlite(let p), .directory(let p): p
            case .postgres(let u), .mysql(let u): u.redacted
            }
        }
    }

    /// Whether a source's archive is decompressed to a file before its restore: only a PostgreSQL dump of several
    /// tables (`pg_restore --jobs` seeks in it); every other restore reads the archive as it is decompressed.
    static func drillNeedsPlain(_ entry: BackupManifest.Entry, source: BackupSourceConfig) -> Bool {
        if case .postgres = source.kind { return PostgresArchiver.withJobs(entry) }
        return false
    }

    /// Restores one archive (`codec`: how `file` is compressed) into the drill's scratch with the tools a restore uses.
    func restoreForDrill(_ entry: BackupManifest.Entry, file: String, codec: Codec, source: BackupSourceConfig, into result: inout DrillRestore,
                         sharedDirectory: String, context ctx: ArchiveContext) async throws(SlipwayError) -> Restored {
        switch source.kind {
        case .sqlite(let path):
            let target = scratchPath(path, shared: sharedDirectory, drill: result)
            if let stage = codec.decompressStage {
                try DirectoryArchiver.makeDirectory((target as NSString).deletingLastPathComponent)
                try await ProcessPipeline([stage], input: file, output: target, logFile: ctx.logFile).run()
            } else {
                try SQLiteArchiver.place(file, at: target, move: false)
            }
            return .sqlite(target)
        case .directory(let path):
            let target = scratchPath(path, shared: sharedDirectory, drill: result)
            try DirectoryArchiver.makeDirectory(target)
            try await DirectoryArchiver.unpack(file: file, codec: codec, into: target, context: ctx)
            return .directory(target)
        case .postgres(let secret):
            let scratch = try await scratchPostgres(secret, into: &result, context: ctx)
            // A new database: restored as a recovery would (a `copy` archive streamed into psql; an older plain dump
            // with parallel jobs for several tables, else streamed).
            if entry.format == BackupManifest.Entry.postgresCopyFormat {
                try await PostgresArchiver.restoreCopy(file: file, codec: codec, into: scratch, newDatabase: true, context: ctx)
            } else if codec == .none {
                try await PostgresArchiver.restoreJobs(file, into: scratch, context: ctx, jobs: PostgresArchiver.withJobs(entry) ? nil : 1)
            } else {
                try await PostgresArchiver.restoreStream(file, codec: codec, into: scratch, context: ctx)
            }
            return .postgres(scratch)
        case .mysql(let secret):
            let server = try ctx.url(secret)
            let scratch = server.with(database: "slipway_drill_" + UUID().uuidString.prefix(8).lowercased())
            try await MySQLArchiver.execute(server, "CREATE DATABASE `\(scratch.database)`", context: ctx)
            result.databases.append((source.kind, scratch))
            result.environment[secret] = scratch.fullURL
            try await MySQLArchiver.restore(file: file, codec: codec, to: scratch, context: ctx)
            return .mysql(scratch)
        }
    }

    /// A new empty scratch database on the server of PostgreSQL secret `secret`, recorded in the drill (dropped by
    /// `cleanUp`, the app's secret pointed at it).
    func scratchPostgres(_ secret: String, into result: inout DrillRestore, context ctx: ArchiveContext) async throws(SlipwayError) -> DatabaseURL {
        let server = try ctx.url(secret)
        let scratch = server.with(database: "slipway_drill_" + UUID().uuidString.prefix(8).lowercased())
        try await PostgresArchiver.psql(server.with(database: "postgres"), "CREATE DATABASE \(scratch.database)", context: ctx)
        result.databases.append((.postgres(urlSecret: secret), scratch))
        result.environment[secret] = scratch.fullURL
        return scratch
    }

    /// The integrity check of a restored source: PRAGMA integrity_check and row counts, or file counts.
    func checkForDrill(_ entry: BackupManifest.Entry, _ restored: Restored, context ctx: ArchiveContext) async throws(SlipwayError) -> RestoreCheck {
        let counts: [String: Int64]
        switch restored {
        case .sqlite(let path):
            return try await blocking { () throws(SlipwayError) in SQLiteArchiver.check(entry, plain: path) }
        case .directory(let path):
            let n = DirectoryArchiver.fileCount(path)
            let ok = entry.fileCount.map { $0 == n } ?? true
            return RestoreCheck(source: entry.source, ok: ok, detail: "\(n) file(s)" + (ok ? ", as the manifest says" : ", manifest says \(entry.fileCount ?? 0)"))
        case .postgres(let url):
            counts = PostgresArchiver.parseCounts(try await PostgresArchiver.psqlLines(url, PostgresArchiver.countQuery, context: ctx))
        case .mysql(let url):
            counts = try await MySQLArchiver.rowCounts(url, context: ctx)
        }
        let (ok, detail) = SourceArchiver.compare(entry.rowCounts, counts, exact: entry.rowCountsExact ?? false)
        return RestoreCheck(source: entry.source, ok: ok, detail: detail, rowCounts: counts)
    }

    /// Where a file source lands in the drill: the same place under the scratch shared directory, or
    /// (outside shared) under the drill's own directory.
    func scratchPath(_ path: String, shared: String, drill: DrillRestore) -> String {
        if path.hasPrefix(shared + "/") { return drill.sharedDirectory + path.dropFirst(shared.count) }
        return drill.directory + "/other" + path
    }

    /// Drops the drill's scratch databases and removes its files.
    public func cleanUp(_ drill: DrillRestore, log: String) async {
        let ctx = try? context(staging: "\(workDirectory)/scratch", log: log)
        if let ctx {
            for (kind, url) in drill.databases {
                switch kind {
                case .postgres: try? await PostgresArchiver.psql(url.with(database: "postgres"), "DROP DATABASE IF EXISTS \(url.database) WITH (FORCE)", context: ctx)
                case .mysql: try? await MySQLArchiver.execute(url, "DROP DATABASE IF EXISTS `\(url.database)`", context: ctx)
                case .sqlite, .directory: break
                }
            }
        }
        try? FileManager.default.removeItem(atPath: drill.directory)
    }
}
