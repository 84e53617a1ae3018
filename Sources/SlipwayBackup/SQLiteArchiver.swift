import Foundation
import GRDB
import SlipwayCore
import SlipwayRuntime

/// SQLite: an online-consistent copy through SQLite's backup API (never a raw copy of a live file),
/// row counts from the copy, then compression — kept uncompressed when the data does not compress.
enum SQLiteArchiver {
    static func backup(name: String, path: String, context: ArchiveContext) async throws(SlipwayError) -> BackupManifest.Entry {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .failed("source \(name): SQLite file \(path) does not exist")
        }
        let started = Date()
        let raw = "\(context.staging)/\(name).sqlite"
        let (counts, version) = try await blocking { () throws(SlipwayError) -> ([String: Int64], String) in
            do {
                var cfg = Configuration()
                cfg.readonly = true
                cfg.busyMode = .timeout(30)
                let source = try DatabaseQueue(path: path, configuration: cfg)
                let copy = try DatabaseQueue(path: raw)
                try source.backup(to: copy)
                let counts = try copy.read { try rowCounts($0) }
                let version = try copy.read { try String.fetchOne($0, sql: "SELECT sqlite_version()") } ?? "?"
                try copy.close()
                try source.close()
                return (counts, version)
            } catch {
                throw SlipwayError(.failed, "source \(name): cannot copy SQLite database \(path)", cause: error)
            }
        }
        var codec = context.codec
        var file = raw
        if let stage = codec.compressStage {
            let packed = raw + codec.fileExtension
            try await ProcessPipeline([stage], input: raw, output: packed, logFile: context.logFile).run()
            // Pages that do not compress (random or already compressed data) are stored as they are.
            if Double(Checksum.size(packed)) > 0.9 * Double(Checksum.size(raw)) {
                try? FileManager.default.removeItem(atPath: packed)
                codec = .none
            } else {
                try? FileManager.default.removeItem(atPath: raw)
                file = packed
            }
        }
        return BackupManifest.Entry(
            source: name, kind: "sqlite", file: (file as NSString).lastPathComponent, size: Checksum.size(file),
            sha256: try await SourceArchiver.checksum(file, context), compression: codec.rawValue, encrypted: false,
            tool: "SQLite \(version) online backup API", startedAt: started, finishedAt: Date(),
            rowCounts: counts, rowCountsExact: true)
    }

    /// Restores into `target`. While a process has the database open, through the backup API (its
    /// connections stay valid and see the old or the restored database); otherwise the archive is
    /// unpacked beside the target and renamed over it — one write instead of two.
    static func restore(file: String, codec: Codec, to target: String, context: ArchiveContext, verified: PendingChecksum) async throws(SlipwayError) {
        let open = ProcessInspector.openers(of: target)
        if open.complete, open.pids.isEmpty {
            try await replace(target, with: file, codec: codec, context: context, verified: verified)
            return
        }
        let plain = try await unpack(file: file, codec: codec, context: context)
        defer { if plain != file { try? FileManager.default.removeItem(atPath: plain) } }
        try await verified.wait()
        try await blocking { () throws(SlipwayError) in try copyInto(plain, target: target) }
    }

    /// Moves or copies a plain database file to `target` (a path no process has open).
    static func place(_ plain: String, at target: String, move: Bool) throws(SlipwayError) {
        do {
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if move { try FileManager.default.moveItem(atPath: plain, toPath: target) } else { try FileManager.default.copyItem(atPath: plain, toPath: target) }
        } catch { throw SlipwayError(.failed, "cannot put the restored database at \(target)", cause: error) }
    }

    /// Unpacks (or copies) the archive to a temp name beside `target`, then renames it into place after
    /// removing the old database's WAL and shared-memory files, which must never meet the new file.
    static func replace(_ target: String, with file: String, codec: Codec, context: ArchiveContext, verified: PendingChecksum) async throws(SlipwayError) {
        let fm = FileManager.default
        let dir = (target as NSString).deletingLastPathComponent
        try DirectoryArchiver.makeDirectory(dir)
        let temp = "\(dir)/.\((target as NSString).lastPathComponent).restore-\(UUID().uuidString.prefix(8))"
        do throws(SlipwayError) {
            let stages = codec.decompressStage.map { [$0] } ?? [.init(["cat"])]
            // The file must be on disk before it replaces the database; flushing while it is written
            // leaves only the tail for the final fsync.
            _ = FileManager.default.createFile(atPath: temp, contents: nil)
            let flusher = WriteBehind(path: temp)
            do throws(SlipwayError) {
                try await ProcessPipeline(stages, input: file, output: temp, logFile: context.logFile).run()
            } catch {
                try? await blocking { () throws(SlipwayError) in flusher.stop() }
                throw error
            }
            try? await blocking { () throws(SlipwayError) in flusher.stop() }
            try await verified.wait()
            try await blocking { () throws(SlipwayError) in try swapIn(temp, over: target) }
        } catch {
            try? fm.removeItem(atPath: temp)
            throw error
        }
    }

    /// Puts `temp` (a complete database file beside `target`) in place: on disk first, the old database's WAL,
    /// shared-memory and journal files removed (they must never meet the new file), renamed over, the directory synced.
    static func swapIn(_ temp: String, over target: String) throws(SlipwayError) {
        guard WriteBehind.sync(temp) else {
            throw SlipwayError(.failed, "cannot write the restored database to disk", cause: String(cString: strerror(errno)))
        }
        for suffix in ["-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: target + suffix) }
        guard rename(temp, target) == 0 else {
            throw SlipwayError(.failed, "cannot move the restored database into \(target)", cause: String(cString: strerror(errno)))
        }
        _ = WriteBehind.sync((target as NSString).deletingLastPathComponent)
    }

    static func copyInto(_ plain: String, target: String) throws(SlipwayError) {
        do {
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let source = try DatabaseQueue(path: plain)
            // Through the backup API into the live file: one transaction in the destination, so a reader
            // sees the old database or the restored one, and the app's open connections stay valid.
            var cfg = Configuration()
            cfg.busyMode = .timeout(30)
            let dest = try DatabaseQueue(path: target, configuration: cfg)
            try source.backup(to: dest)
            try dest.close()
            try source.close()
        } catch {
            throw SlipwayError(.failed, "cannot restore into SQLite database \(target)", cause: error)
        }
    }

    static func restoreTest(_ entry: BackupManifest.Entry, file: String, codec: Codec, context: ArchiveContext) async throws(SlipwayError) -> RestoreCheck {
        let plain = try await unpack(file: file, codec: codec, context: context)
        defer { if plain != file { try? FileManager.default.removeItem(atPath: plain) } }
        return try await blocking { () throws(SlipwayError) in check(entry, plain: plain) }
    }

    static func check(_ entry: BackupManifest.Entry, plain: String) -> RestoreCheck {
        do {
            var cfg = Configuration()
            cfg.readonly = true
            let db = try DatabaseQueue(path: plain, configuration: cfg)
            defer { try? db.close() }
            let integrity = try db.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
            guard integrity == ["ok"] else {
                return RestoreCheck(source: entry.source, ok: false, detail: "PRAGMA integrity_check: \(integrity.prefix(5).joined(separator: "; "))")
            }
            let counts = try db.read { try rowCounts($0) }
            let (ok, detail) = SourceArchiver.compare(entry.rowCounts, counts, exact: true)
            return RestoreCheck(source: entry.source, ok: ok, detail: "integrity ok; " + detail, rowCounts: counts)
        } catch {
            return RestoreCheck(source: entry.source, ok: false, detail: "the restored copy does not open as SQLite: \(error)")
        }
    }

    /// The archive as a plain SQLite file in scratch (or the archive itself when it is uncompressed).
    static func unpack(file: String, codec: Codec, context: ArchiveContext) async throws(SlipwayError) -> String {
        guard let stage = codec.decompressStage else { return file }
        let out = "\(context.scratch)/\(SourceArchiver.scratchName("restore")).sqlite"
        try await ProcessPipeline([stage], input: file, output: out, logFile: context.logFile).run()
        return out
    }

    static func rowCounts(_ db: Database) throws -> [String: Int64] {
        let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        var out: [String: Int64] = [:]
        for t in tables {
            out[t] = try Int64.fetchOne(db, sql: "SELECT count(*) FROM \"\(t.replacingOccurrences(of: "\"", with: "\"\""))\"") ?? 0
        }
        return out
    }
}
