import Foundation
import GRDB
@testable import SlipwayBackup
import SlipwayCore
import Logging
import Synchronization
import Testing

/// The continuous archive's parts without a daemon: SQLite's log read as committed transactions (stopping at a torn
/// or damaged frame), segments that refuse a damaged copy, and a restore to a point inside a segment, across an
/// encrypted archive, and refused over a missing segment.
@Suite struct ContinuousArchiveUnitTests {
    /// A database in WAL mode with table t, its file copied after the schema (the snapshot), then `rows` transactions
    /// of one row each left in the log; the connection is kept so the log stays.
    static func database(rows: Int) throws -> (dir: String, path: String, snapshot: String, queue: DatabaseQueue) {
        let dir = NSTemporaryDirectory() + "continuous-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/app.db"
        let q = try DatabaseQueue(path: path)
        try q.inDatabase { try $0.execute(sql: "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)") }
        try q.inDatabase { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try FileManager.default.copyItem(atPath: path, toPath: dir + "/snapshot.sqlite")
        for i in 1...rows { try q.inDatabase { try $0.execute(sql: "INSERT INTO t (v) VALUES (?)", arguments: ["row \(i)"]) } }
        return (dir, path, dir + "/snapshot.sqlite", q)
    }

    static func log(_ path: String) throws -> (WALFile.Header, [UInt8]) {
        let bytes = [UInt8](try #require(FileManager.default.contents(atPath: path + "-wal")))
        return (try #require(WALFile.header(Array(bytes.prefix(32)))), bytes)
    }

    @Test func theLogIsReadAsCommittedTransactionsUpToATornOrDamagedFrame() throws {
        let db = try Self.database(rows: 10)
        defer { try? FileManager.default.removeItem(atPath: db.dir) }
        let (header, bytes) = try Self.log(db.path)
        let start = WALFile.Position(start: header)
        let (all, end) = WALFile.transactions(Array(bytes[32...]), header: header, from: start)
        #expect(all.count == 10 && end.offset == bytes.count, "\(all.count) transactions, \(end.offset) of \(bytes.count) bytes")
        // Cut in the middle of the last frame: nine, and the position after the ninth.
        let (torn, at) = WALFile.transactions(Array(bytes[32..<(bytes.count - 100)]), header: header, from: start)
        #expect(torn.count == 9 && at.offset < bytes.count - 100)
        // Read on from there once the rest is there: the tenth, nothing twice.
        let (rest, _) = WALFile.transactions(Array(bytes[at.offset...]), header: header, from: at)
        #expect(rest == [all[9]])
        // A page changed on disk breaks the checksum chain: nothing from that frame on.
        var damaged = bytes
        damaged[32 + 4 * header.frameSize + 24 + 100] ^= 0xff
        let (before, _) = WALFile.transactions(Array(damaged[32...]), header: header, from: start)
        #expect(before.count < 5 && before == Array(all.prefix(before.count)))
        #expect(WALFile.header(Array(bytes.prefix(31))) == nil)
    }

    @Test func aSegmentRefusesADamagedCopy() throws {
        let db = try Self.database(rows: 3)
        defer { try? FileManager.default.removeItem(atPath: db.dir) }
        let (header, bytes) = try Self.log(db.path)
        let (txs, _) = WALFile.transactions(Array(bytes[32...]), header: header, from: WALFile.Position(start: header))
        let segment = ContinuousSegment(pageSize: header.pageSize, entries: txs.enumerated().map { .init(time: Date(timeIntervalSince1970: 1_800_000_000 + Double($0.offset)), transaction: $0.element) })
        var encoded = segment.encoded()
        #expect(ContinuousSegment.decode(encoded) == segment)
        encoded[40] ^= 1
        #expect(ContinuousSegment.decode(encoded) == nil)
    }

    /// Snapshot and two segments (transactions 1–5 and 6–10, one second apart from t0 + 1 s) in a local store.
    static func archive(_ db: (dir: String, path: String, snapshot: String, queue: DatabaseQueue), t0: Date, key: BackupKey?) async throws -> (LocalBackupStore, String) {
        let store = LocalBackupStore(base: db.dir + "/store")
        let prefix = "continuous/shop/production/db/", generation = "20270115T080000Z-test"
        let (header, bytes) = try Self.log(db.path)
        let (txs, _) = WALFile.transactions(Array(bytes[32...]), header: header, from: WALFile.Position(start: header))
        func put(_ file: String, _ name: String) async throws {
            guard let key else { return try await store.putObject(prefix + generation + "/" + name, file: file) }
            _ = try BackupCipher.encrypt(file, to: file + ".enc", key: key)
            try await store.putObject(prefix + generation + "/" + name + ".enc", file: file + ".enc")
        }
        try await put(db.snapshot, "snapshot.sqlite")
        for (n, range) in [0..<5, 5..<10].enumerated() {
            let seg = ContinuousSegment(pageSize: header.pageSize, entries: range.map { .init(time: t0.addingTimeInterval(Double($0 + 1)), transaction: txs[$0]) })
            let file = db.dir + "/seg\(n)"
            try Data(seg.encoded()).write(to: URL(fileURLWithPath: file))
            try await put(file, String(format: "%010d-%013.0f-%013.0f.seg", n, seg.first!.timeIntervalSince1970 * 1000, seg.last!.timeIntervalSince1970 * 1000))
        }
        let info = ContinuousGeneration(id: generation, startedAt: t0, source: "db", encrypted: key != nil)
        try JSONEncoder().encode(info).write(to: URL(fileURLWithPath: db.dir + "/g.json"))
        try await store.putObject(prefix + generation + "/" + ContinuousGeneration.file, file: db.dir + "/g.json")
        return (store, prefix)
    }

    static func count(_ path: String) throws -> Int {
        let q = try DatabaseQueue(path: path)
        defer { try? q.close() }
        return try q.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM t") ?? -1 }
    }

    @Test func aPointInsideASegmentGetsExactlyTheTransactionsSeenByThen() async throws {
        let db = try Self.database(rows: 10)
        defer { try? FileManager.default.removeItem(atPath: db.dir) }
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let key = try BackupCipher.key(String(repeating: "ab", count: 32), secret: "KEY")
        let (store, prefix) = try await Self.archive(db, t0: t0, key: key)
        let out = db.dir + "/out.db"
        let at7 = try await PointRestore.build(prefix: prefix, time: t0.addingTimeInterval(7.5), stores: [store], key: key, scratch: db.dir + "/scratch", output: out)
        #expect(try Self.count(out) == 7 && at7.transactions == 7 && at7.point == t0.addingTimeInterval(7))
        let latest = try await PointRestore.build(prefix: prefix, time: nil, stores: [store], key: key, scratch: db.dir + "/scratch", output: out)
        #expect(try Self.count(out) == 10 && latest.transactions == 10)
        await #expect(throws: SlipwayError.self) {
            _ = try await PointRestore.build(prefix: prefix, time: t0.addingTimeInterval(-1), stores: [store], key: key, scratch: db.dir + "/scratch", output: out)
        }
        await #expect(throws: SlipwayError.self, "encrypted: no key, no restore") {
            _ = try await PointRestore.build(prefix: prefix, time: nil, stores: [store], key: nil, scratch: db.dir + "/scratch", output: out)
        }
        // A missing first segment: nothing after the snapshot can be trusted.
        let first = try await store.objects(under: prefix).first { $0.contains("/0000000000-") }!
        try await store.deleteObject(first)
        do {
            _ = try await PointRestore.build(prefix: prefix, time: t0.addingTimeInterval(7.5), stores: [store], key: key, scratch: db.dir + "/scratch", output: out)
            Issue.record("a gap was not noticed")
        } catch { #expect(error.message.contains("segment 0 of generation 20270115T080000Z-test is missing"), "\(error.message)") }
    }
}

@Suite struct ContinuousConfigTests {
    static func parse(_ backup: String) throws -> SlipwayConfig {
        try ConfigLoader.parse(yaml: """
            app: shop
            process: { command: "x" }
            backup:
            \(backup)
            """, file: "/srv/shop/slipway.yml", directory: "/srv/shop")
    }

    @Test func continuousIsForSQLiteAndPostgresSourcesWithTheLagItMayHave() throws {
        let on = try Self.parse("""
              sources: [{ name: db, sqlite: shared/app.db }, { name: pg, postgres: { url_secret: DB_URL } }, { name: files, directory: shared/up }]
              stores: [{ local: /var/backups }]
              continuous: { max_lag: 2s, snapshot_every: 6h }
            """)
        let backup = try #require(on.environments[on.environmentNames[0]]?.backup)
        #expect(backup.continuousSources.map(\.name) == ["db", "pg"], "directories are not archived continuously")
        #expect(backup.continuousSettings == ContinuousSettings(maxLag: .seconds(2), snapshotEvery: .seconds(6 * 3600)))
        #expect(backup.continuousSettings.window == .seconds(12 * 3600), "two snapshot_every by default")
        let kept = try Self.parse("""
              sources: [{ name: db, sqlite: shared/app.db }]
              stores: [{ local: /var/backups }]
              continuous: { snapshot_every: 1d, keep: 7d }
            """)
        #expect(kept.environments[kept.environmentNames[0]]?.backup?.continuousSettings.window == .seconds(7 * 86_400))
        do {
            _ = try Self.parse("""
                  sources: [{ name: db, sqlite: shared/app.db }]
                  stores: [{ local: /var/backups }]
                  continuous: { snapshot_every: 1d, keep: 1h }
                """)
            Issue.record("a window shorter than a generation was accepted")
        } catch {
            #expect("\(error)".contains("backup.continuous.keep") && "\(error)".contains("at least snapshot_every"), "\(error)")
        }
        let one = try Self.parse("""
              sources: [{ name: db, sqlite: shared/app.db, continuous: true }, { name: other, sqlite: shared/b.db }]
              stores: [{ local: /var/backups }]
            """)
        #expect(one.environments[one.environmentNames[0]]?.backup?.continuousSources.map(\.name) == ["db"])
        do {
            _ = try Self.parse("""
                  sources: [{ name: my, mysql: { url_secret: DB_URL }, continuous: true }]
                  stores: [{ local: /var/backups }]
                  continuous: { max_lag: 10ms }
                """)
            Issue.record("accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("backup.sources[0].continuous") && text.contains("sqlite and postgres sources"), "\(text)")
            #expect(text.contains("backup.continuous.max_lag") && text.contains("100ms"), "\(text)")
        }
    }
}

@Suite struct ContinuousRetentionTests {
    @Test func generationsOlderThanTwoSnapshotPeriodsGoExceptTheOneCoveringTheWindowsStart() {
        let keys = ["20261201T000000Z-a/generation.json", "20261201T000000Z-a/snapshot.sqlite", "20261203T000000Z-b/0000000000-1-2.seg",
                    "20261205T120000Z-c/generation.json", "20261206T000000Z-d/generation.json", "junk.txt"]
        let cutoff = ContinuousArchiver.started("20261205T000000Z")!
        #expect(ContinuousArchiver.expired(keys, before: cutoff) == ["20261201T000000Z-a"])
        #expect(ContinuousArchiver.expired(keys, before: ContinuousArchiver.started("20261201T000000Z")!).isEmpty)
    }
}

@Suite struct ContinuousResumeTests {
    final class Clock: Sendable {
        let value = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        var now: Date { value.withLock { $0 } }
        func advance(_ s: Double) { value.withLock { $0 = $0.addingTimeInterval(s) } }
    }

    /// A daemon that died after putting a segment and before recording it: the next one removes that copy and ships
    /// the same transactions again under the same number, so a restore finds every number once.
    @Test func aSegmentShippedButNotRecordedIsShippedAgainUnderItsNumber() async throws {
        let db = try ContinuousArchiveUnitTests.database(rows: 3)
        defer { try? FileManager.default.removeItem(atPath: db.dir) }
        let store = LocalBackupStore(base: db.dir + "/store")
        let clock = Clock()
        func archiver() -> ContinuousArchiver {
            ContinuousArchiver(place: .init(app: "a", environment: "e", source: "s", path: db.path), settings: .init(), stores: [store], key: nil,
                               stateFile: db.dir + "/state.json", scratch: db.dir + "/scratch", logger: Logger(label: "test"), now: { clock.now })
        }
        func insert(_ n: Int) throws { for _ in 0..<n { try db.queue.inDatabase { try $0.execute(sql: "INSERT INTO t (v) VALUES ('more')") } } }
        let a = archiver()
        try await a.step()
        clock.advance(1)
        try await a.step()
        try insert(2)
        try await a.step()
        clock.advance(1)
        try await a.step()
        let generation = try #require(await a.state?.generation)
        let prefix = "continuous/a/e/s/\(generation)/"
        #expect(try await store.objects(under: prefix).filter { $0.hasSuffix(".seg" + Codec.preferred.fileExtension) }.count == 2)
        // Killed after putting segment 2, before recording it.
        try insert(1)
        try await a.step()
        let orphan = prefix + "0000000002-1800000001500-1800000001500.seg"
        try "half".write(toFile: db.dir + "/orphan", atomically: true, encoding: .utf8)
        try await store.putObject(orphan, file: db.dir + "/orphan")
        await a.detach()

        let b = archiver()
        try await b.step()
        #expect(try await !store.objects(under: prefix).contains(orphan), "the unrecorded copy is gone")
        clock.advance(1)
        try await b.step()
        let segments = try await store.objects(under: prefix).filter { $0.hasSuffix(".seg" + Codec.preferred.fileExtension) }
        #expect(segments.map { String($0.dropFirst(prefix.count).prefix(10)) } == ["0000000000", "0000000001", "0000000002"], "\(segments)")
        let restored = try await PointRestore.build(prefix: "continuous/a/e/s/", time: nil, stores: [store], key: nil, scratch: db.dir + "/scratch", output: db.dir + "/out.db")
        #expect(try ContinuousArchiveUnitTests.count(db.dir + "/out.db") == 6, "\(restored)")
    }
}
