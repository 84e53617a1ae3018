import Foundation
import GRDB
import Logging
import SlipwayRuntime
import SlipwayCore

/// A database as it was at a point, from a continuous archive: the newest generation whose snapshot is not after the
/// point, then its segments in order (numbered without a gap), each transaction applied whole (its pages written,
/// the file cut to its size) while it was seen committed at or before the point; then SQLite's own check.
public enum PointRestore {
    public struct Result: Sendable, Equatable {
        public var generation: String
        /// The last transaction applied was seen committed then (the snapshot's time when none was).
        public var point: Date
        public var transactions: Int
        public var store: String
    }

    /// Builds the database of `prefix`'s archive at `time` (nil: everything archived) into `output`.
    public static func build(prefix: String, time: Date?, stores: [any ArchiveObjects], key: BackupKey?, scratch: String,
                             output: String) async throws(SlipwayError) -> Result {
        var tried: [String] = []
        for store in stores {
            let keys = try await store.objects(under: prefix)
            guard !keys.isEmpty else { tried.append(store.label); continue }
            return try await build(prefix: prefix, keys: keys, time: time, store: store, key: key, scratch: scratch, output: output)
        }
        throw .notFound("no continuous archive under \(prefix) in \(tried.joined(separator: ", ")); is backup.continuous on and the daemon running?")
    }

    static func build(prefix: String, keys: [String], time: Date?, store: any ArchiveObjects, key: BackupKey?, scratch: String,
                      output: String) async throws(SlipwayError) -> Result {
        try DirectoryArchiver.makeDirectory(scratch)
        let temp = "\(scratch)/point-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let generations = try await store.documents(ContinuousGeneration.self, named: ContinuousGeneration.file, among: keys, scratch: scratch)
            .sorted { $0.startedAt < $1.startedAt }
        guard let generation = time.map({ t in generations.last { $0.startedAt <= t } }) ?? generations.last else {
            let first = generations.first.map { ISO8601DateFormatter().string(from: $0.startedAt) } ?? "none"
            throw .notFound("the continuous archive under \(prefix) in \(store.label) starts at \(first): nothing to restore to \(time.map { ISO8601DateFormatter().string(from: $0) } ?? "")")
        }
        guard !generation.encrypted || key != nil else { throw .usage("the archive is encrypted: set backup.encryption_key_secret's secret to restore it") }
        let base = "\(prefix)\(generation.id)/"
        // The snapshot and segments as stored: compressed (`.zst`, `.gz`; plain in archives of older versions), then
        // sealed (`.enc`); fetchPlain undoes both by the key's extensions.
        guard let snapshot = keys.first(where: { $0.hasPrefix(base + "snapshot.sqlite") }) else {
            throw .failed("the snapshot of generation \(generation.id) is missing from \(store.label)")
        }
        try await store.fetchPlain(snapshot, to: output, key: key, scratch: scratch, log: "\(scratch)/point.log")
        // Segments: `NNNNNNNNNN-FIRSTMS-LASTMS.seg`, applied in order while they begin at or before the point.
        let segments = keys.filter { $0.hasPrefix(base) && $0.contains(".seg") }.compactMap { k -> (Int, Double, String)? in
            let parts = (k.dropFirst(base.count)).split(separator: "-")
            guard parts.count == 3, let n = Int(parts[0]), let first = Double(parts[1]) else { return nil }
            return (n, first / 1000, k)
        }.sorted { $0.0 < $1.0 }
        var point = generation.startedAt, applied = 0
        guard let file = FileHandle(forUpdatingAtPath: output) else { throw .failed("cannot open \(output) to apply the archive") }
        defer { try? file.close() }
        for (i, (n, first, k)) in segments.enumerated() {
            if let time, first > time.timeIntervalSince1970 { break }
            guard n == i else { throw .failed("segment \(i) of generation \(generation.id) is missing from \(store.label): the archive is complete only to \(ISO8601DateFormatter().string(from: point))") }
            try await store.fetchPlain(k, to: temp, key: key, scratch: scratch, log: "\(scratch)/point.log")
            guard let data = FileManager.default.contents(atPath: temp), let segment = ContinuousSegment.decode([UInt8](data)) else {
                throw .failed("segment \(k) in \(store.label) is damaged (its checksum does not match)")
            }
            for e in segment.entries {
                if let time, e.time > time { break }
                do {
                    for p in e.transaction.pages {
                        try file.seek(toOffset: UInt64(p.number - 1) * UInt64(segment.pageSize))
                        try file.write(contentsOf: p.data)
                    }
                    try file.truncate(atOffset: UInt64(e.transaction.databasePages) * UInt64(segment.pageSize))
                } catch { throw SlipwayError(.failed, "cannot write \(output)", cause: error) }
                point = e.time
                applied += 1
            }
        }
        try check(output)
        return Result(generation: generation.id, point: point, transactions: applied, store: store.label)
    }

    /// `PRAGMA quick_check` on the built file.
    static func check(_ path: String) throws(SlipwayError) {
        do {
            let q = try DatabaseQueue(path: path)
            let result = try q.read { try String.fetchAll($0, sql: "PRAGMA quick_check") }
            try q.close()
            guard result == ["ok"] else { throw SlipwayError(.failed, "the restored database fails SQLite's check: \(result.prefix(3).joined(separator: "; "))") }
        } catch let error as SlipwayError { throw error } catch {
            throw SlipwayError(.failed, "the restored database does not open", cause: error)
        }
    }
}

extension BackupService {
    /// The archiver of `source` (an SQLite file at `path`), keeping its position in `stateFile`.
    public func continuousArchiver(source: String, path: String, stateFile: String, logger: Logger) -> ContinuousArchiver {
        ContinuousArchiver(place: .init(app: app, environment: environment, source: source, path: path), settings: settings.continuousSettings,
                           stores: stores.compactMap { $0 as? any ArchiveObjects }, key: encryptionKey, stateFile: stateFile,
                           scratch: workDirectory + "/scratch", logger: logger)
    }

    /// `source` as it was at `time` (nil: the newest archived), built into `output`.
    public func pointInTime(source: String, time: Date?, output: String) async throws(SlipwayError) -> PointRestore.Result {
        try await PointRestore.build(prefix: "continuous/\(app)/\(environment)/\(source)/", time: time, stores: stores.compactMap { $0 as? any ArchiveObjects },
                                     key: encryptionKey, scratch: workDirectory + "/scratch", output: output)
    }
}

extension SourceArchiver {
    /// A plain database file put at `target`: copied beside it and swapped in (`SQLiteArchiver.swapIn`) when no process
    /// has it open, else copied into it through SQLite's backup API
    /// in one transaction (the app's connections stay valid and see the old database or this one).
    public static func placeSQLite(_ plain: String, at target: String) async throws(SlipwayError) {
        let open = ProcessInspector.openers(of: target)
        guard open.complete, open.pids.isEmpty else {
            return try await blocking { () throws(SlipwayError) in try SQLiteArchiver.copyInto(plain, target: target) }
        }
        let dir = (target as NSString).deletingLastPathComponent
        try DirectoryArchiver.makeDirectory(dir)
        let temp = "\(dir)/.\((target as NSString).lastPathComponent).point-\(UUID().uuidString.prefix(8))"
        do throws(SlipwayError) {
            try await blocking { () throws(SlipwayError) in
                do { try FileManager.default.copyItem(atPath: plain, toPath: temp) } catch { throw SlipwayError(.failed, "cannot write \(temp)", cause: error) }
                try SQLiteArchiver.swapIn(temp, over: target)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            throw error
        }
    }
}
