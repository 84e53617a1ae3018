import Foundation
import SlipwayCore

/// `slipway backup verify --continuous`: each continuous source's archive checked in every store. SQLite: each
/// generation has its snapshot and its segments numbered without a gap, each segment downloaded and its SHA-256
/// checked (decrypted first when sealed). PostgreSQL: each base has its object, and the WAL from its start is there
/// without a gap (the segments' presence; their contents are checked by PostgreSQL when a restore replays them).
extension BackupService {
    public func verifyContinuous(_ source: BackupSourceConfig) async -> VerifyReport {
        let prefix = "continuous/\(app)/\(environment)/\(source.name)/"
        var files: [VerifyReport.FileCheck] = []
        for store in stores.compactMap({ $0 as? any ArchiveObjects }) {
            do throws(SlipwayError) {
                let keys = try await store.objects(under: prefix)
                switch source.kind {
                case .sqlite: files += try await verifyGenerations(keys, prefix: prefix, store: store)
                case .postgres: files += try await verifyBases(keys, prefix: prefix, store: store)
                case .mysql, .directory: break
                }
                if keys.isEmpty { files.append(.init(location: store.label, file: prefix, ok: false, detail: "no continuous archive here")) }
            } catch {
                files.append(.init(location: store.label, file: prefix, ok: false, detail: error.message))
            }
        }
        return VerifyReport(id: "continuous \(source.name)", ok: files.allSatisfy(\.ok), files: files, restores: [])
    }

    func verifyGenerations(_ keys: [String], prefix: String, store: any ArchiveObjects) async throws(SlipwayError) -> [VerifyReport.FileCheck] {
        let temp = "\(workDirectory)/scratch/.verify-\(UUID().uuidString.prefix(8))"
        try DirectoryArchiver.makeDirectory(workDirectory + "/scratch")
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let iso = ISO8601DateFormatter()
        var out: [VerifyReport.FileCheck] = []
        let ids = Set(keys.compactMap { k in k.dropFirst(prefix.count).split(separator: "/").first.map(String.init) }).sorted()
        for id in ids {
            let base = prefix + id + "/"
            let own = keys.filter { $0.hasPrefix(base) }
            guard own.contains(base + ContinuousGeneration.file) else {
                out.append(.init(location: store.label, file: "generation \(id)", ok: true, detail: "incomplete (being started, or abandoned before its snapshot): never restored from"))
                continue
            }
            guard own.contains(where: { $0.hasPrefix(base + "snapshot.sqlite") }) else {
                out.append(.init(location: store.label, file: "generation \(id)", ok: false, detail: "its snapshot is missing"))
                continue
            }
            let segments = own.filter { $0.contains(".seg") }.compactMap { k -> (Int, String)? in
                Int(k.dropFirst(base.count).prefix { $0 != "-" }).map { ($0, k) }
            }.sorted { $0.0 < $1.0 }
            var problem: String?, first: Date?, last: Date?
            for (i, (n, k)) in segments.enumerated() {
                guard n == i else { problem = "segment \(i) is missing (\(n) follows \(i - 1))"; break }
                try await store.fetchPlain(k, to: temp, key: encryptionKey, scratch: workDirectory + "/scratch", log: workDirectory + "/scratch/verify.log")
                guard let data = FileManager.default.contents(atPath: temp), let segment = ContinuousSegment.decode([UInt8](data)) else {
                    problem = "segment \(n) is damaged (its checksum does not match)"
                    break
                }
                first = first ?? segment.first
                last = segment.last ?? last
            }
            let span = first.map { " from \(iso.string(from: $0)) to \(iso.string(from: last ?? $0))" } ?? ""
            out.append(.init(location: store.label, file: "generation \(id)", ok: problem == nil,
                             detail: problem ?? "snapshot and \(segments.count) segment(s), numbered without a gap, each checksum ok\(span)"))
        }
        return out
    }

    func verifyBases(_ keys: [String], prefix: String, store: any ArchiveObjects) async throws(SlipwayError) -> [VerifyReport.FileCheck] {
        var out: [VerifyReport.FileCheck] = []
        let systems = Set(keys.compactMap { k in k.dropFirst(prefix.count).split(separator: "/").first.map(String.init) }).sorted()
        for system in systems {
            for base in try await WALArchiver.bases(in: store, prefix: prefix, system: system) {
                let label = "base \(base.id)"
                guard keys.contains(base.object) else {
                    out.append(.init(location: store.label, file: label, ok: false, detail: "\(base.object) is missing"))
                    continue
                }
                do throws(SlipwayError) {
                    let wal = try PostgresPointRestore.plan(keys: keys, prefix: "\(prefix)\(system)/wal/", base: base, time: nil)
                    out.append(.init(location: store.label, file: label, ok: !wal.isEmpty,
                                     detail: wal.isEmpty ? "no WAL from \(base.walStart) on: the base cannot be made consistent"
                                         : "finished \(ISO8601DateFormatter().string(from: base.finishedAt)); WAL \(wal.first?.0 ?? "")…\(wal.last?.0 ?? "") present without a gap (\(wal.count) segment(s))"))
                } catch {
                    out.append(.init(location: store.label, file: label, ok: false, detail: error.message))
                }
            }
        }
        return out
    }
}
