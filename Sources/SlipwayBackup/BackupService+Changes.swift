import Foundation
import GRDB
import SlipwayCore

extension BackupService {
    /// What changed in each source of `manifest` since it was taken: row counts per table now against
    /// the manifest's (databases), files newer than the backup (directories). Reads only.
    public func changes(since manifest: BackupManifest) async -> [SourceChange] {
        let ctx = try? context(staging: "\(workDirectory)/scratch", log: logFile("restore", manifest.id))
        var out: [SourceChange] = []
        for entry in manifest.entries {
            guard let source = settings.sources.first(where: { $0.name == entry.source }), let ctx else {
                out.append(SourceChange(source: entry.source, kind: entry.kind, summary: "\(entry.source): no longer configured; not restored"))
                continue
            }
            do throws(SlipwayError) {
                out.append(try await change(entry, source: source, since: manifest.startedAt, context: ctx))
            } catch {
                out.append(SourceChange(source: entry.source, kind: entry.kind, summary: "\(entry.source): cannot read its current state (\(error.message))"))
            }
        }
        return out
    }

    func change(_ entry: BackupManifest.Entry, source: BackupSourceConfig, since: Date, context: ArchiveContext) async throws(SlipwayError) -> SourceChange {
        let now: [String: Int64]
        switch source.kind {
        case .directory(let path):
            let changed = DirectoryArchiver.filesModified(under: path, after: since)
            let count = DirectoryArchiver.fileCount(path)
            let was = entry.fileCount.map { "\($0) → " } ?? ""
            return SourceChange(source: entry.source, kind: entry.kind,
                                summary: "\(entry.source): \(was)\(count) file(s), \(changed) created or changed since the backup",
                                changedFiles: changed)
        case .sqlite(let path):
            now = try await blocking { () throws(SlipwayError) -> [String: Int64] in
                do {
                    var cfg = Configuration()
                    cfg.readonly = true
                    let db = try DatabaseQueue(path: path, configuration: cfg)
                    defer { try? db.close() }
                    return try db.read { try SQLiteArchiver.rowCounts($0) }
                } catch { throw SlipwayError(.failed, "cannot read \(path)", cause: error) }
            }
        case .postgres(let secret):
            now = PostgresArchiver.parseCounts(try await PostgresArchiver.psqlLines(try context.url(secret), PostgresArchiver.countQuery, context: context))
        case .mysql(let secret):
            now = try await MySQLArchiver.rowCounts(try context.url(secret), context: context)
        }
        let before = entry.rowCounts ?? [:]
        var tables: [SourceChange.Table] = []
        for name in Set(before.keys).union(now.keys).sorted() where before[name] != now[name] {
            tables.append(.init(name: name, backupRows: before[name], currentRows: now[name]))
        }
        let parts = tables.map { t -> String in
            switch (t.backupRows, t.currentRows) {
            case let (b?, c?): return "\(t.name) \(b) → \(c) rows (\(c >= b ? "+" : "")\(c - b))"
            case let (nil, c?): return "\(t.name) is new (\(c) rows), dropped by the restore"
            case let (b?, nil): return "\(t.name) (\(b) rows then) no longer exists, comes back"
            case (nil, nil): return t.name
            }
        }
        let summary = parts.isEmpty ? "\(entry.source): same row counts as the backup (rows may still have been updated)"
            : "\(entry.source): " + parts.joined(separator: "; ")
        return SourceChange(source: entry.source, kind: entry.kind, summary: summary, tables: tables)
    }
}
