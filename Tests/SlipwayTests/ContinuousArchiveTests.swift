import Foundation
import GRDB
import SlipwayBackup
import SlipwayCore
import SlipwayStore
import SlipwayRuntime
import Testing

/// Continuous archiving of an SQLite database (`backup.continuous`): an app writes a row every 10 ms (first checkpointing
/// every 100 pages itself, which would start the log over unseen if the archiver did not hold it); the daemon is
/// restarted under it (the archive resumes: one generation, segments without a gap), the archive outlives the log
/// being checkpointed, then the app and the daemon are killed and the database lost. `restore --latest` loses at most
/// `max_lag` worth of rows; `--to-time T` gives exactly the rows committed by T.
@Suite(.serialized)
struct ContinuousArchiveTests {
    static let writer = #"""
        import os, sqlite3, sys, time
        path, pause, eager = sys.argv[1], sys.argv[2], sys.argv[3]
        c = sqlite3.connect(path, isolation_level=None, timeout=10)
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, ts REAL NOT NULL, pad TEXT)")
        every = None
        while True:
            # With EAGER present the app checkpoints every 100 pages, five times as often as the archiver would;
            # without, almost never (while the daemon is down its log is kept for it to read on).
            want = 100 if os.path.exists(eager) else 100000
            if want != every:
                c.execute("PRAGMA wal_autocheckpoint=%d" % want)
                every = want
                with open(eager + ".now", "w") as f: f.write(str(want))  # what the test waits for
            if os.path.exists(pause):
                time.sleep(0.005)
                continue
            c.execute("INSERT INTO t (ts, pad) VALUES (?, ?)", (time.time(), "x" * 3000))
            time.sleep(0.01)
        """#

    static func rows(_ path: String) throws -> (count: Int, maxId: Int, maxTs: Double) {
        var cfg = Configuration()
        cfg.readonly = true
        let q = try DatabaseQueue(path: path, configuration: cfg)
        defer { try? q.close() }
        return try q.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT count(*), coalesce(max(id), 0), coalesce(max(ts), 0) FROM t")!
            return (row[0], row[1], row[2])
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func anSQLiteDatabaseComesBackToTheLatestArchivedPointAndToATime() async throws {
        let s = try Sandbox(extra: """
            backup:
              sources: [{ name: db, sqlite: shared/shop.db, continuous: true }]
              stores: [{ local: archive }]
              continuous: { max_lag: 1s }
            """)
        let env = try #require(s.config.environmentNames.first)
        let db = s.config.sharedDirectory(env) + "/shop.db", archive = s.config.root + "/archive/continuous/demo/\(env)/db"
        try FileManager.default.createDirectory(atPath: s.config.sharedDirectory(env), withIntermediateDirectories: true)
        try Self.writer.write(toFile: s.dir + "/writer.py", atomically: true, encoding: .utf8)
        let pause = s.dir + "/pause", eager = s.dir + "/eager"
        try "".write(toFile: eager, atomically: true, encoding: .utf8)
        let app = try ProcessSpawner.spawn(argv: ["python3", s.dir + "/writer.py", db, pause, eager], directory: s.dir,
                                           environment: ProcessInfo.processInfo.environment, logFile: s.dir + "/writer.log")
        defer { kill(app.pid, SIGKILL) }
        _ = try await poll(within: .seconds(10)) { (try? Self.rows(db))?.count ?? 0 > 10 ? true : nil }
        func files(_ suffix: String) -> [String] {
            ((FileManager.default.enumerator(atPath: archive)?.allObjects as? [String]) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
        }
        try await s.withCrashableDaemon { crash in
            // Segments and the snapshot are stored compressed (zstd).
            _ = try await poll(within: .seconds(20)) { files(".seg.zst").count >= 2 ? true : nil }
            #expect(files("snapshot.sqlite.zst").count == 1 && files(".seg").isEmpty)
            // A moment with no writes: T is in the middle of it.
            try "".write(toFile: pause, atomically: true, encoding: .utf8)
            try await Task.sleep(for: .milliseconds(400))
            let t = Date()
            try await Task.sleep(for: .milliseconds(600))
            try FileManager.default.removeItem(atPath: pause)
            let byT = try Self.rows(db)
            try await Task.sleep(for: .seconds(3))
            #expect(files(ContinuousGeneration.file).count == 1, "the app's own checkpoints did not start the log over under the archive")

            // The daemon killed and started again under the writing app (which no longer checkpoints itself, so the log
            // it wrote meanwhile is still there): the archive goes on in the same generation, from where it stopped.
            try FileManager.default.removeItem(atPath: eager)
            // Only once the app stopped checkpointing, and wrote after its last checkpoint: the log starts over at the
            // first write after a checkpoint that took all of it, once the daemon (killed) no longer holds it, and that
            // rightly begins a new generation.
            _ = try await poll(within: .seconds(10)) { (try? String(contentsOfFile: eager + ".now", encoding: .utf8)) == "100000" ? true : nil }
            let settled = try Self.rows(db).count
            _ = try await poll(within: .seconds(10)) { (try? Self.rows(db))?.count ?? 0 > settled + 2 ? true : nil }
            try await crash()
            let before = files(".seg.zst").count
            _ = try await poll(within: .seconds(20)) { files(".seg.zst").count > before + 3 ? true : nil }
            // The archiver checkpoints the log every 500 pages (about 5 s of these rows): wait for a few.
            try await Task.sleep(for: .seconds(8))
            #expect(files(ContinuousGeneration.file).count == 1, "one generation: \(files(ContinuousGeneration.file))")
            let listed = try await s.cli(["backup", "continuous", "--json"])
            let statuses = try SlipwayJSON.decoder().decode([ContinuousStatus].self, from: Data(listed.text.utf8))
            #expect(statuses.count == 1 && statuses[0].source == "db" && statuses[0].error == nil
                    && statuses[0].lastShipped.map { Date().timeIntervalSince($0) < 2 } == true, "\(listed.text)")
            let log = try #require(WALFile.header(Array((FileManager.default.contents(atPath: db + "-wal") ?? Data()).prefix(32))))
            #expect(log.checkpointSequence >= 1, "the log was checkpointed and started over under the archive")

            // The app and the daemon die, and the database with them.
            kill(app.pid, SIGKILL)
            let total = try Self.rows(db)
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
            try await crash()

            let latest = try await s.cli(["backup", "restore", "--latest", "--yes"])
            #expect(latest.status == 0, "\(latest.text)")
            let restored = try Self.rows(db)
            #expect(restored.count == restored.maxId, "every row up to the newest, none twice: \(restored)")
            #expect(restored.count <= total.count && total.count - restored.count <= 100, "at most max_lag (1 s, 100 rows) lost: \(restored.count) of \(total.count)")
            // The plan came first; requests were held while the data went back, and let go when it was done.
            #expect(latest.text.contains("Plan: restore") && latest.text.contains("lost: writes to db not archived yet"), "\(latest.text)")
            let events = try await s.cli(["events", "--env", env, "--limit", "40"])
            #expect(events.text.contains("requests held while latest is restored") && events.text.contains("the restore of latest ended"), "\(events.text)")
            // A restore's hold a dead daemon left is lifted by the next start.
            _ = try SlipwayStore(path: s.config.databasePath).environments.holdRequests(
                MaintenanceMode(mode: .paused, html: "", retryAfterS: 30, holdLimitMs: 60_000, since: 0, actor: "slipway restore"), environment: env)
            try await crash()
            let status = try SlipwayJSON.decoder().decode([EnvironmentStatus].self, from: Data(try await s.cli(["status", "--json"]).text.utf8))
            #expect(status.first { $0.name == env }?.maintenance == nil, "\(status)")
            // status shows the source's archive (its position and lag).
            #expect(status.first { $0.name == env }?.continuous?.map(\.source) == ["db"], "\(status)")

            let atT = try await s.cli(["backup", "restore", "--to-time", ISO8601DateFormatter.withFractions.string(from: t), "--to", s.dir + "/at-t.db"])
            #expect(atT.status == 0, "\(atT.text)")
            let then = try Self.rows(s.dir + "/at-t.db")
            print("continuous: \(files(".seg.zst").count) segments, log sequence \(log.checkpointSequence), \(restored.count) of \(total.count) rows back, \(then.count) by T")
            #expect(then.count == byT.count && then.maxTs <= t.timeIntervalSince1970, "exactly the rows committed by T: \(then) against \(byT)")

            // A drill of the archive: built in scratch and checked, timed; no release exists to start on it.
            let drill = try await s.cli(["drill", "--latest", "--json"])
            #expect(drill.status == 0, "\(drill.text)")
            let report = try SlipwayJSON.decoder().decode(DrillReport.self, from: Data(drill.text.utf8))
            #expect(report.backupId == "continuous latest" && report.phases.map(\.name) == ["recover"] && report.checks.map(\.ok) == [true], "\(report)")

            // verify --continuous reads every segment; one gone from the store is named.
            let verified = try await s.cli(["backup", "verify", "--continuous"])
            #expect(verified.status == 0 && verified.text.contains("numbered without a gap, each checksum ok"), "\(verified.text)")
            let segs = files(".seg.zst")
            try FileManager.default.removeItem(atPath: archive + "/" + segs[segs.count / 2])
            let broken = try await s.cli(["backup", "verify", "--continuous"])
            #expect(broken.status == 1 && broken.text.contains("BAD") && broken.text.contains("is missing"), "\(broken.text)")
        }
    }
}

extension ISO8601DateFormatter {
    static var withFractions: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}
