import Foundation
import SlipwayCore
import SlipwayRuntime

/// A PostgreSQL database as it was at a point, from a continuous archive: the newest base that finished before the
/// point is unpacked into a scratch cluster, the WAL from its start is fetched (finished segments up to the first
/// one finished after the point, else the one being written too), the scratch server replays it to the point and is
/// promoted; then the app's database is copied from there into the target (a backup's `copy` archive streamed into a
/// backup's restore: all or nothing, in one transaction), and the scratch cluster goes.
public enum PostgresPointRestore {
    public struct Result: Sendable, Equatable {
        public var base: String
        /// The last transaction replayed committed then (nil: none after the base).
        public var point: Date?
        public var segments: Int
        public var store: String
        /// False when the archive ends before the requested point (everything archived was restored).
        public var reachedTarget: Bool
        /// Seconds per phase: fetch, recover, copy.
        public var phases: [String: Double]
    }

    /// Recovers `prefix`'s archive to `time` (nil: everything archived; `inclusive`: transactions committed exactly at
    /// `time` included) and copies `database` (as `user`) into `target`.
    public static func restore(prefix: String, time: Date?, inclusive: Bool, database: String, user: String, target: DatabaseURL,
                               stores: [any ArchiveObjects], key: BackupKey?, scratch: String, launcher: String?, log: String) async throws(SlipwayError) -> Result {
        try DirectoryArchiver.makeDirectory(scratch)
        ScratchCluster.sweep(parent: scratch)
        var tried: [String] = []
        for store in stores {
            let keys = try await store.objects(under: prefix)
            let bases = keys.filter { $0.hasSuffix("/" + ContinuousBase.file) }
            guard !bases.isEmpty else { tried.append(store.label); continue }
            var cluster = try ScratchCluster.create(parent: scratch, launcher: launcher)
            do {
                let r = try await recover(prefix: prefix, keys: keys, time: time, inclusive: inclusive, store: store, key: key, cluster: &cluster,
                                          user: user, log: log)
                var result = r
                let t = ContinuousClock.now
                try await copy(cluster, database: database, user: user, into: target, log: log)
                result.phases["copy"] = (ContinuousClock.now - t).seconds
                await cluster.destroy()
                return result
            } catch {
                await cluster.destroy()
                throw error
            }
        }
        throw .notFound("no PostgreSQL base backup under \(prefix) in \(tried.joined(separator: ", ")); is backup.continuous on and the daemon running (the first base is taken when archiving starts)?")
    }

    static func recover(prefix: String, keys: [String], time: Date?, inclusive: Bool, store: any ArchiveObjects, key: BackupKey?,
                        cluster: inout ScratchCluster, user: String, log: String) async throws(SlipwayError) -> Result {
        var phases: [String: Double] = [:]
        let fetchStart = ContinuousClock.now
        let bases = try await store.documents(ContinuousBase.self, named: ContinuousBase.file, among: keys, scratch: cluster.directory)
            .sorted { $0.finishedAt < $1.finishedAt }
        let temp = cluster.directory + "/.object"
        let iso = ISO8601DateFormatter()
        guard let base = time.map({ t in bases.last { $0.finishedAt <= t } }) ?? bases.last else {
            throw .notFound("the continuous archive under \(prefix) in \(store.label) begins at \(bases.first.map { iso.string(from: $0.finishedAt) } ?? "none") (its first base backup): nothing to restore to \(time.map { iso.string(from: $0) } ?? "")")
        }
        // The base, unpacked as it streams.
        let codec = try await store.fetchOpened(base.object, to: temp, key: key)
        try await ProcessPipeline(codec.decompressStages + [.init(["tar", "-x", "-C", cluster.data])], input: temp, logFile: log).run()
        try? FileManager.default.removeItem(atPath: temp)
        let wanted = try plan(keys: keys, prefix: "\(prefix)\(base.system)/wal/", base: base, time: time)
        for (segment, k) in wanted {
            let path = "\(cluster.wal)/\(segment)"
            try await store.fetchPlain(k, to: path, key: key, scratch: cluster.directory, log: log)
            // A partial segment holds only its written part: zeros after it, to the size PostgreSQL expects.
            if k.contains(".partial"), truncate(path, off_t(base.walSegmentBytes)) != 0 {
                throw SlipwayError(.failed, "cannot extend \(path) to a segment's size", cause: String(cString: strerror(errno)))
            }
        }
        try await cluster.chown()
        phases["fetch"] = (ContinuousClock.now - fetchStart).seconds
        let recoverStart = ContinuousClock.now
        try cluster.configure(target: time, inclusive: inclusive)
        var reached = true
        if try await !replay(&cluster, version: base.serverVersion, user: user) {
            // The archive ends before the point: everything archived is the closest state; replayed again without a target.
            reached = false
            try cluster.configure(target: nil, inclusive: inclusive)
            guard try await replay(&cluster, version: base.serverVersion, user: user) else {
                throw SlipwayError(.failed, "the scratch server did not finish its recovery", cause: ProcessPipeline.tail(cluster.log))
            }
        }
        phases["recover"] = (ContinuousClock.now - recoverStart).seconds
        let replayed = try await cluster.query("SELECT extract(epoch FROM pg_last_xact_replay_timestamp())", database: "postgres", user: user).first
        return Result(base: base.id, point: replayed.flatMap(Double.init).map { Date(timeIntervalSince1970: $0) }, segments: wanted.count,
                      store: store.label, reachedTarget: reached, phases: phases)
    }

    /// The WAL objects a restore to `time` needs, by segment name in replay order: from the base's first segment, each
    /// finished one up to the first finished after `time`; the one being written when none finished after it. A
    /// missing segment in that run is an error naming how far the archive is whole.
    static func plan(keys: [String], prefix: String, base: ContinuousBase, time: Date?) throws(SlipwayError) -> [(String, String)] {
        var finished: [String: (Date, String)] = [:], partial: [String: String] = [:]
        for k in keys where k.hasPrefix(prefix) {
            let name = String(k.dropFirst(prefix.count))
            let segment = String(name.prefix(24))
            guard WALArchiver.isSegment(segment), WALArchiver.segmentOrder(segment) >= WALArchiver.segmentOrder(base.walStart) else { continue }
            let rest = name.dropFirst(25)
            if rest.hasPrefix("partial") { partial[segment] = k; continue }
            guard let ms = Double(rest.prefix { $0.isNumber }) else { continue }
            finished[segment] = (Date(timeIntervalSince1970: ms / 1000), k)
        }
        var out: [(String, String)] = []
        var segment = base.walStart
        while true {
            if let (done, k) = finished[segment] {
                out.append((segment, k))
                if let time, done > time { return out }
            } else {
                if let gap = finished.keys.filter({ WALArchiver.segmentOrder($0) > WALArchiver.segmentOrder(segment) }).min() {
                    throw .failed("WAL segment \(segment) is missing from the archive (\(gap) and later are there): it is whole only to before \(segment)")
                }
                if let k = partial[segment] { out.append((segment, k)) }
                return out
            }
            segment = next(segment, segmentBytes: base.walSegmentBytes)
        }
    }

    /// The segment after `name` (timeline, log and segment number, `segmentBytes` per segment).
    static func next(_ name: String, segmentBytes: Int) -> String {
        let chars = Array(name)
        let tli = String(chars[0..<8]), log = UInt64(String(chars[8..<16]), radix: 16) ?? 0, seg = UInt64(String(chars[16..<24]), radix: 16) ?? 0
        let perLog = UInt64(0x1_0000_0000) / UInt64(max(1, segmentBytes))
        let (l, s) = seg + 1 >= perLog ? (log + 1, UInt64(0)) : (log, seg + 1)
        return tli + String(format: "%08llX%08llX", l, s)
    }

    /// Starts the scratch server and waits until it promoted (true) or stopped because the WAL ended before the target
    /// (false, stopped); any other end throws with its log.
    static func replay(_ cluster: inout ScratchCluster, version: Int, user: String) async throws(SlipwayError) -> Bool {
        try cluster.start(version: version)
        guard let pm = cluster.postmaster else { return false }
        let deadline = ContinuousClock.now + .seconds(3600)
        var pause = Duration.milliseconds(20)
        while ContinuousClock.now < deadline {
            if let status = ProcessInspector.reap(pm.pid) {
                cluster.postmaster = nil
                let tail = ProcessPipeline.tail(cluster.log, lines: 20)
                if tail.contains("recovery ended before configured recovery target was reached") { return false }
                throw SlipwayError(.failed, "the scratch PostgreSQL server exited with status \(status) during recovery", cause: tail)
            }
            if let state = try? await cluster.query("SELECT pg_is_in_recovery()", database: "postgres", user: user).first, state == "f" { return true }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(250))
        }
        throw SlipwayError(.failed, "the scratch PostgreSQL server did not finish its recovery within an hour", cause: ProcessPipeline.tail(cluster.log))
    }

    /// `database` of the scratch server into `target`: into a new database swapped in by rename when the role may
    /// (as a backup's restore: `PostgresArchiver.swapIn`; the database then holds exactly what it held at the point,
    /// tables a later migration created gone too), else replacing the objects it holds, in one transaction. The copy
    /// is a backup's `copy` archive streamed through a pipe into a backup's restore as it is written (`stream`): the
    /// rows of large tables go as binary COPY, with no text for the target server to parse.
    static func copy(_ cluster: ScratchCluster, database: String, user: String, into target: DatabaseURL, log: String) async throws(SlipwayError) {
        let source = try cluster.url(database: database, user: user)
        let context = ArchiveContext(staging: cluster.directory, logFile: log, codec: .none, secrets: [:], scratch: cluster.directory)
        if let d = await PostgresArchiver.swappable(target, context: context) {
            try await PostgresArchiver.swapIn(target, database: d, context: context) { (fresh: DatabaseURL) async throws(SlipwayError) in
                do throws(SlipwayError) { try await stream(database, from: source, into: fresh, newDatabase: true, context: context) } catch {
                    throw SlipwayError(.failed, "copying \(database) from the recovered server into a new database failed; \(target.redacted) is unchanged",
                                       cause: error.cause ?? error.message)
                }
            }
            return
        }
        do throws(SlipwayError) { try await stream(database, from: source, into: target, newDatabase: false, context: context) } catch {
            throw SlipwayError(.failed, "copying \(database) from the recovered server into \(target.redacted) failed; the database is unchanged (one transaction)",
                               cause: error.cause ?? error.message)
        }
    }

    /// `source`'s database written as a `copy` archive into a pipe while the restore into `target` reads it. Either
    /// side failing ends the other (the writer then meets a closed pipe, the reader an archive that ends early); the
    /// writer's error is the one told, as the reader's follows from it.
    static func stream(_ name: String, from source: DatabaseURL, into target: DatabaseURL, newDatabase: Bool,
                       context: ArchiveContext) async throws(SlipwayError) {
        let (session, snapshot, tables) = try await PostgresArchiver.openCopySnapshot(name: name, url: source, context: context)
        let (r, w): (Int32, Int32)
        do { (r, w) = try StreamEnd.pipePair() } catch {
            session.kill()
            _ = await session.wait()
            throw error
        }
        let sink = StreamEnd(fd: w, pid: nil, display: "the copy of \(name)"), reader = StreamEnd(fd: r, pid: nil, display: "the copy of \(name)")
        async let written: SlipwayError? = {
            do throws(SlipwayError) {
                try await PostgresArchiver.writeCopyArchive(to: sink, tables: tables, snapshot: snapshot, url: source, context: context)
                return nil
            } catch { return error }
        }()
        var failure: SlipwayError?
        do throws(SlipwayError) { try await PostgresArchiver.restoreCopy(from: reader, into: target, newDatabase: newDatabase, context: context) } catch {
            failure = error
        }
        let writeFailure = await written
        await PostgresArchiver.closeSnapshot(session)
        if let error = writeFailure ?? failure { throw error }
    }
}
