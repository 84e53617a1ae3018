import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime

/// Base backups (`pg_basebackup`, tar to stdout, compressed as it streams) and what retention keeps.
extension WALArchiver {
    /// Starts a base backup in the background when the archive has none for this server, or its newest is older than
    /// `snapshot_every`; WAL keeps shipping meanwhile.
    func baseIfDue() async throws(SlipwayError) {
        guard baseTask == nil, let system else { return }
        if newestBase == nil {
            newestBase = try await Self.bases(in: stores[0], prefix: place.prefix, system: system).map(\.finishedAt).max() ?? .distantPast
        }
        guard let newest = newestBase, now().timeIntervalSince(newest) >= settings.snapshotEvery.seconds else { return }
        baseTask = Task { await self.takeBase() }
    }

    func takeBase() async {
        defer { baseTask = nil }
        do {
            let base = try await base()
            newestBase = base.finishedAt
            baseProblem = nil
            logger.info("continuous archive: base backup taken", metadata: ["source": "\(place.source)", "base": "\(base.id)"])
            await prune()
        } catch {
            baseProblem = "base backup: " + error.message
            logger.warning("continuous archive: base backup failed; tried again at the next look", metadata: ["source": "\(place.source)", "error": "\(error.message)"])
            // Not at once: the next try waits a tenth of snapshot_every, at least a minute.
            newestBase = now().addingTimeInterval(max(60, settings.snapshotEvery.seconds / 10) - settings.snapshotEvery.seconds)
        }
    }

    func base() async throws(SlipwayError) -> ContinuousBase {
        guard let system else { throw .failed("the server is not identified yet") }
        let basebackup = try Tools.require(["pg_basebackup"], package: "postgresql-client")
        // The segment being written now: the base's own start is at or after it, so replay from it finds everything.
        guard let walStart = try await PostgresArchiver.psqlLines(url, "SELECT pg_walfile_name(pg_current_wal_lsn())", context: context).first,
              Self.isSegment(walStart) else { throw .failed("cannot read the WAL position of \(url.redacted)") }
        let started = now()
        let id = ContinuousArchiver.generationID(started)
        let file = "\(scratch)/\(place.environment)-\(place.source)-base-\(id).tar\(codec.fileExtension)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        var stages = [ProcessPipeline.Stage([basebackup, "--pgdata=-", "--format=tar", "--wal-method=none", "--checkpoint=fast", "--label=slipway \(id)",
                                             "--dbname=\(url.redacted)"], environment: url.postgresEnvironment())]
        if let c = codec.compressStage { stages.append(c) }
        var pipeline = ProcessPipeline(stages, output: file, logFile: logFile)
        pipeline.stopsOnCancel = true
        try await pipeline.run()
        let finished = now()
        let prefix = "\(place.prefix)\(system)/base/\(id)/"
        let object = try await stores.putSealed(file, as: prefix + "base.tar" + codec.fileExtension, key: key)
        let base = ContinuousBase(id: id, startedAt: started, finishedAt: finished, system: system, walStart: walStart, serverVersion: serverVersion,
                                  walSegmentBytes: segmentBytes, object: object)
        try await stores.putDocument(base, as: prefix + ContinuousBase.file, scratch: scratch)
        return base
    }

    /// The complete bases of `system` in `store`, oldest first.
    static func bases(in store: any ArchiveObjects, prefix: String, system: String) async throws(SlipwayError) -> [ContinuousBase] {
        let keys = try await store.objects(under: "\(prefix)\(system)/base/")
        return try await store.documents(ContinuousBase.self, named: ContinuousBase.file, among: keys, scratch: FileManager.default.temporaryDirectory.path)
            .sorted { $0.finishedAt < $1.finishedAt }
    }

    /// Keeps every base that finished within `keep` (two `snapshot_every` by default) and the newest before them, and the WAL from
    /// the oldest kept base's start on; the rest goes from every store.
    func prune() async {
        guard let system else { return }
        let cutoff = now().addingTimeInterval(-settings.window.seconds)
        for store in stores {
            do throws(SlipwayError) {
                let bases = try await Self.bases(in: store, prefix: place.prefix, system: system)
                let (doomed, keepFrom) = Self.expired(bases, before: cutoff)
                for b in doomed {
                    for k in try await store.objects(under: "\(place.prefix)\(system)/base/\(b.id)/") { try await store.deleteObject(k) }
                }
                guard let keepFrom else { continue }
                let wal = "\(place.prefix)\(system)/wal/"
                for k in try await store.objects(under: wal) where Self.segmentOrder(String(k.dropFirst(wal.count).prefix(24))) < Self.segmentOrder(keepFrom) {
                    try await store.deleteObject(k)
                }
            } catch {
                logger.warning("continuous archive: older bases not removed", metadata: ["source": "\(place.source)", "store": "\(store.label)", "error": "\(error.message)"])
            }
        }
    }

    /// The bases retention removes (all finished before `cutoff` but the newest of them) and the first WAL segment the
    /// kept ones need (nil: keep all).
    static func expired(_ bases: [ContinuousBase], before cutoff: Date) -> (doomed: [ContinuousBase], keepFrom: String?) {
        let old = bases.filter { $0.finishedAt < cutoff }
        let doomed = Array(old.dropLast())
        let kept = bases.filter { b in !doomed.contains { $0.id == b.id } }
        return (doomed, kept.map(\.walStart).min { segmentOrder($0) < segmentOrder($1) })
    }

    /// A segment name's position in the WAL, whatever its timeline: its last 16 digits.
    static func segmentOrder(_ name: String) -> String { String(name.suffix(16)) }
}
