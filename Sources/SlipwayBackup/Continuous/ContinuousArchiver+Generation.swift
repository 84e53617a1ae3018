import Foundation
import GRDB
import Logging
import SlipwayCore

/// Attaching to the database, the pinned read transaction, generations and the archiver's own checkpoints.
extension ContinuousArchiver {
    /// Opens the two connections, checks the database is in WAL mode, pins, and resumes where the state file says
    /// when the log is still the one it names and reaches that far; otherwise starts a new generation.
    func attach() async throws(SlipwayError) {
        do {
            var cfg = Configuration()
            cfg.busyMode = .timeout(5)
            cfg.allowsUnsafeTransactions = true
            let w = try DatabaseQueue(path: place.path, configuration: cfg)
            let mode = try w.inDatabase { try String.fetchOne($0, sql: "PRAGMA journal_mode") } ?? ""
            guard mode.lowercased() == "wal" else {
                throw SlipwayError(.failed, "\(place.path) is in \(mode) journal mode: continuous archiving needs WAL (the app opens it with PRAGMA journal_mode=WAL)")
            }
            try w.inDatabase { try $0.execute(sql: "PRAGMA wal_autocheckpoint=0; CREATE TABLE IF NOT EXISTS _slipway_seq (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL)") }
            let r = try DatabaseQueue(path: place.path, configuration: cfg)
            try r.inDatabase { try $0.execute(sql: "PRAGMA wal_autocheckpoint=0") }
            writer = w
            reader = r
        } catch let error as SlipwayError {
            detach()
            throw error
        } catch {
            detach()
            throw SlipwayError(.failed, "cannot open \(place.path) to archive it", cause: error)
        }
        try ensurePinned()
        let head = WALFile.header(Self.bytes(place.path + "-wal", from: 0, count: WALFile.headerSize))
        if let s = state, let kept = s.header, let head, head.sameLog(kept), let p = s.position, Checksum.size(place.path + "-wal") >= Int64(p.offset) {
            try await dropOrphans(s)
            logger.info("continuous archiving resumed", metadata: ["source": "\(place.source)", "generation": "\(s.generation)", "segment": "\(s.index)"])
            return
        }
        if let s = state {
            let why = head == nil ? "no log" : s.header.map { head!.sameLog($0) } == false ? "another log than the one it was reading" : "a shorter log"
            logger.warning("continuous archiving cannot resume where it stopped (\(why)); a new generation", metadata: ["source": "\(place.source)", "generation": "\(s.generation)"])
        }
        try await newGeneration()
    }

    /// Segments numbered from `state.index` on were put in a store by a daemon that died before it recorded them:
    /// they are read again from the recorded position and shipped under the same numbers, so the old copies go.
    /// One left behind would make a restore find the number twice, so failing here fails the attach (tried again).
    func dropOrphans(_ s: State) async throws(SlipwayError) {
        let base = "\(place.prefix)\(s.generation)/"
        for store in stores {
            for key in try await store.objects(under: base) {
                guard let n = Int(key.dropFirst(base.count).prefix { $0 != "-" }), n >= s.index, key.contains(".seg") else { continue }
                try await store.deleteObject(key)
            }
        }
    }

    func detach() {
        if pinned { try? reader?.inDatabase { try $0.execute(sql: "COMMIT") } }
        pinned = false
        reader = nil
        writer = nil
    }

    /// Begins the read transaction that holds the log. A reader holds it only when it starts at a frame not yet
    /// copied back into the database (else it reads the database alone, and the next writer may start the log
    /// over), so a row of `_slipway_seq` is written on the same connection right before (as Litestream writes
    /// `_litestream_seq`); the archiver's connections never checkpoint on their own (`wal_autocheckpoint=0`). An
    /// app's checkpoint landing between the two leaves the log unheld: the restart it allows is seen (another
    /// salt) and starts a new generation. (The `-shm` file is never opened here: closing a descriptor of it would
    /// drop SQLite's POSIX locks on it, this very read lock among them.)
    func ensurePinned() throws(SlipwayError) {
        if pinned { try sql(reader, "COMMIT"); pinned = false }
        try sql(reader, Self.sequence + "; BEGIN DEFERRED; SELECT count(*) FROM _slipway_seq")
        pinned = true
    }

    static let sequence = "INSERT INTO _slipway_seq (id, seq) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET seq = seq + 1"

    func sql(_ queue: DatabaseQueue?, _ statements: String) throws(SlipwayError) {
        guard let queue else { throw SlipwayError(.internal, "the archiver of \(place.source) is not attached") }
        do { try queue.inDatabase { try $0.execute(sql: statements) } } catch {
            throw SlipwayError(.failed, "\(place.path): \(statements.prefix(40))… failed", cause: error)
        }
    }

    /// Ships what was read, then a snapshot of the database as the pinned transaction sees it (a new generation,
    /// which replays the log from its start: frames the snapshot holds already are put back as they are).
    func newGeneration() async throws(SlipwayError) {
        try await flush()
        try ensurePinned()
        let started = now()
        let id = Self.generationID(started)
        let file = "\(scratch)/\(place.environment)-\(place.source)-snapshot-\(id).sqlite"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try DirectoryArchiver.makeDirectory(scratch)
        do {
            let copy = try DatabaseQueue(path: file)
            try reader?.inDatabase { source in try copy.writeWithoutTransaction { try source.backup(to: $0) } }
            try copy.close()
        } catch { throw SlipwayError(.failed, "cannot snapshot \(place.path)", cause: error) }
        _ = try await stores.putCompressed(file, as: "\(place.prefix)\(id)/snapshot.sqlite", codec: codec, key: key, scratch: scratch, log: logFile)
        let head = WALFile.header(Self.bytes(place.path + "-wal", from: 0, count: WALFile.headerSize))
        let info = ContinuousGeneration(id: id, startedAt: started, source: place.source, encrypted: key != nil)
        try await stores.putDocument(info, as: "\(place.prefix)\(id)/\(ContinuousGeneration.file)", scratch: scratch)
        state = State(generation: id, index: 0, startedAt: started, header: head, position: head.map(WALFile.Position.init(start:)))
        restartExpected = false
        buffer = []
        bufferedSince = nil
        try save()
        logger.info("continuous archiving: a new generation", metadata: ["source": "\(place.source)", "generation": "\(id)"])
        await pruneGenerations()
        // The frames already in the log are in the snapshot; read now, they get the generation's time.
        try await read()
    }

    /// The log is long: let go of it, checkpoint it so the next writer starts it over, read the rest of it (exactly
    /// the frames the checkpoint counted), and pin the new one, whose frames continue the generation from its start.
    /// Anything that does not add up starts a new generation. (The header's checkpoint sequence cannot tell one
    /// restart from two: each connection counts its own.)
    func checkpoint() async throws(SlipwayError) {
        guard let s = state, let header = s.header, let position = s.position, let writer else { return }
        if pinned { try sql(reader, "COMMIT"); pinned = false }
        let result: (busy: Int, log: Int)
        do {
            result = try writer.inDatabase { db throws -> (Int, Int) in
                let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(RESTART)")
                return (row?[0] ?? 1, row?[1] ?? 0)
            }
        } catch {
            try ensurePinned()
            return
        }
        if result.busy == 0 {
            let end = WALFile.headerSize + result.log * header.frameSize
            let bytes = Self.bytes(place.path + "-wal", from: position.offset, count: max(0, end - position.offset))
            let (transactions, next) = WALFile.transactions(bytes, header: header, from: position)
            take(transactions)
            guard next.offset == end else {
                logger.warning("the checkpointed log did not add up; a new generation", metadata: [
                    "source": "\(place.source)", "frames": "\(result.log)", "read_to": "\(next.offset)", "end": "\(end)", "from": "\(position.offset)"])
                try ensurePinned()
                try await newGeneration()
                return
            }
            var kept = s
            kept.position = next
            state = kept
            restartExpected = true
        }
        try ensurePinned()
        if let now = WALFile.header(Self.bytes(place.path + "-wal", from: 0, count: WALFile.headerSize)) {
            if now.sameLog(header) {
                // Not started over after all (an app's reader kept it): this log goes on, and a later restart is not ours.
                restartExpected = false
            } else if restartExpected, var kept = state {
                // The log this archiver now holds, recorded at once: a restart of the daemon resumes in it.
                kept.header = now
                kept.position = WALFile.Position(start: now)
                state = kept
                restartExpected = false
            }
        }
        try await flush()
        try save()
    }

    /// A generation's id: when it began (UTC, to the second, so ids sort by time) and a random part.
    static func generationID(_ date: Date) -> String {
        idTime().string(from: date) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }

    static func idTime() -> DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f
    }
}
