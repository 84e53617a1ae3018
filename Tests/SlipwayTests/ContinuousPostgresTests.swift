import Foundation
import SlipwayBackup
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import Testing

/// Continuous archiving of PostgreSQL (`backup.continuous` on a postgres source, real PostgreSQL 15): the daemon streams
/// the server's WAL through a replication slot and takes a base backup. Rows inserted, the time noted, a table dropped:
/// `--to-time` before the drop brings the table back with every row; a deploy whose migration drops a column:
/// `--before-deployment N` brings the column back with its data; rows written while the daemon is down reach the
/// archive through the slot once it is back (`--latest`, into another database, has them: no WAL gap).
@Suite(.serialized)
struct ContinuousPostgresTests {
    @Test(.enabled(if: TestServices.hasPostgres, Comment(rawValue: TestServices.skipNote)), .timeLimit(.minutes(4)))
    func aPostgresDatabaseComesBackToATimeToBeforeADeployAndThroughADaemonRestart() async throws {
        // Server-wide statements through the postgres database: slipway_test is other tests' (and a restore may swap it).
        let serverURL = try DatabaseURL(parsing: try #require(TestServices.postgres, "SLIPWAY_TEST_PG_URL is not set"), secret: "t")
        let server = serverURL.with(database: "postgres").fullURL
        let name = "pitr_\(UUID().uuidString.prefix(6).lowercased())", copy = name + "_copy"
        let url = serverURL.with(database: name).fullURL, copyURL = serverURL.with(database: copy).fullURL
        _ = try await BackupFixture.psql(server, "CREATE DATABASE \(name)")
        _ = try await BackupFixture.psql(server, "CREATE DATABASE \(copy)")
        let s = try Sandbox(extra: """
            backup:
              sources: [{ name: main, postgres: { url_secret: DB_URL } }]
              stores: [{ local: archive }]
              continuous: { max_lag: 1s }
              before_deploy: true
            migrate:
              up: "/bin/sh migrate.sh"
            """)
        let env = try #require(s.config.environmentNames.first)
        let slot = "slipway_demo_\(env)_main"
        /// The slot (it would keep the server's WAL forever) and the databases go, after the daemon stopped.
        func dropAll() async {
            _ = try? await BackupFixture.psql(server, "SELECT pg_drop_replication_slot('\(slot)') FROM pg_replication_slots WHERE slot_name = '\(slot)'")
            _ = try? await BackupFixture.psql(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            _ = try? await BackupFixture.psql(server, "DROP DATABASE IF EXISTS \(copy) WITH (FORCE)")
        }
        try FileManager.default.createDirectory(atPath: s.config.root, withIntermediateDirectories: true)
        try "DB_URL=\(url)\n".write(toFile: s.config.root + "/secrets.env", atomically: true, encoding: .utf8)
        func psql(_ url: String, _ q: String) async throws -> String {
            try await BackupFixture.psql(url, q).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func sql(_ q: String) async throws -> String { try await psql(url, q) }
        _ = try await sql("""
            CREATE TABLE orders (id serial PRIMARY KEY, note text NOT NULL);
            INSERT INTO orders (note) SELECT 'order ' || g FROM generate_series(1, 200) g;
            CREATE TABLE events (id serial PRIMARY KEY, what text);
            INSERT INTO events (what) SELECT 'event ' || g FROM generate_series(1, 50) g;
            CREATE TABLE big (id int PRIMARY KEY, payload bytea, at timestamptz);
            INSERT INTO big SELECT g, decode(repeat(md5(g::text), 8), 'hex'), '2026-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, 8000) g;
            """)
        // Over a MiB: its rows reach the target as binary COPY (the other tables go with the schema).
        let bigRows = "8000|1024000|\(try await sql("SELECT md5(string_agg(payload::text || at::text, ',' ORDER BY id)) FROM big"))"
        let archive = s.config.root + "/archive/continuous/demo/\(env)/main"
        func objects(_ suffix: String) -> [String] {
            ((FileManager.default.enumerator(atPath: archive)?.allObjects as? [String]) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
        }
        func status() async throws -> ContinuousStatus? {
            let list: [ContinuousStatus] = try await s.client.get("/v1/backups/continuous")
            return list.first { $0.source == "main" }
        }
        /// The WAL written so far is in the archive's copy of the segment being written (only its written part is shipped).
        func partialHolds() async throws {
            let at = try await psql(server, "SELECT file_name || ' ' || file_offset FROM pg_walfile_name_offset(pg_current_wal_lsn())").split(separator: " ")
            let segment = String(at[0]), offset = try #require(Int(at[1]))
            let plain = s.dir + "/partial.plain"
            _ = try await poll(within: .seconds(20)) { () async throws -> Bool? in
                guard let k = objects(".zst").first(where: { $0.contains("/wal/\(segment).partial") }) else { return nil }
                try await ProcessPipeline([.init(["zstd", "-q", "-d", "-c"])], input: archive + "/" + k, output: plain, logFile: s.dir + "/zstd.log").run()
                let size = (try FileManager.default.attributesOfItem(atPath: plain)[.size] as? NSNumber)?.intValue ?? 0
                return size >= offset && size < 16 << 20 ? true : nil
            }
        }
        /// The segment being written finished (pg_switch_wal) and waited for in the archive: everything before is there.
        func archived() async throws {
            let segment = try await psql(server, "SELECT pg_walfile_name(pg_current_wal_lsn())")
            _ = try await psql(server, "SELECT pg_switch_wal()")
            _ = try await poll(within: .seconds(20)) { objects(".zst").contains { $0.contains("/wal/\(segment).") && !$0.contains("partial") } ? true : nil }
        }
        func restore(_ args: [String]) async throws -> String {
            let r = try await s.cli(["backup", "restore"] + args + ["--yes"])
            #expect(r.status == 0, "\(r.text)")
            return r.text
        }

        var daemon = try await s.spawnDaemon()
        do {
            _ = try await poll(within: .seconds(60)) { objects(ContinuousBase.file).count == 1 ? true : nil }
            // T between the last insert and the drop, each side by a margin.
            _ = try await sql("INSERT INTO orders (note) SELECT 'late ' || g FROM generate_series(1, 20) g")
            try await Task.sleep(for: .milliseconds(300))
            let t = Date()
            try await Task.sleep(for: .milliseconds(300))
            _ = try await sql("DROP TABLE events; INSERT INTO orders (note) VALUES ('after the drop')")
            // The drop is in the segment being written: the restore to T replays the archive's copy of it.
            try await partialHolds()
            let st = try #require(try await status())
            #expect(st.generation?.isEmpty == false && st.lastShipped != nil && st.error == nil && st.retainedBytes != nil && st.lagSeconds != nil, "\(st)")

            let text = try await restore(["--to-time", ISO8601DateFormatter.withFractions.string(from: t)])
            #expect(text.contains("main: its last transaction committed at"), "\(text)")
            #expect(try await sql("SELECT count(*), count(DISTINCT what) FROM events") == "50|50", "the dropped table is back with every row")
            #expect(try await sql("SELECT count(*) FROM orders") == "220", "orders as at T: the row inserted with the drop is not there")
            #expect(try await sql("SELECT count(*), sum(length(payload)), md5(string_agg(payload::text || at::text, ',' ORDER BY id)) FROM big") == bigRows,
                    "the large table's rows, byte for byte")

            // A deploy whose migration drops a column; --before-deployment brings it back with its data.
            let pgEnv = try DatabaseURL(parsing: url, secret: "t")
            _ = try await s.release("v0", files: ["migrate.sh": ":\n"])
            #expect(try await s.outcome(try await s.deploy("v0")).state == .succeeded)
            _ = try await s.release("v1", files: ["migrate.sh": "PGPASSWORD='\(pgEnv.password ?? "")' psql -X -q -v ON_ERROR_STOP=1 --dbname='\(pgEnv.redacted)' -c 'ALTER TABLE orders DROP COLUMN note' -c 'CREATE TABLE made_by_v1 (x int)'\n"])
            let d = try await s.outcome(try await s.deploy("v1"))
            #expect(d.state == .succeeded, "\(d.message ?? "")")
            #expect(try await sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'") == "0")
            try await archived()
            // rollback --with-data offers the point just before the deploy it undoes.
            let plan: DataRollbackPlan = try await s.client.get("/v1/rollback/plan?env=\(env)")
            #expect(plan.version == "v0" && plan.pointBefore?.deploymentId == d.id, "\(plan)")
            #expect(plan.pointBefore?.command == "slipway backup restore --before-deployment \(d.id) --env \(env)")
            // --dry-run: the plan alone (the deploy's data changes are what is lost), nothing changed.
            let dry = try await s.cli(["backup", "restore", "--before-deployment", String(d.id), "--env", env, "--dry-run", "--json"])
            let restorePlan = try SlipwayJSON.decoder().decode(RestorePlan.self, from: Data(dry.text.utf8))
            #expect(dry.status == 0 && restorePlan.deploymentsAfter.map(\.id) == [d.id] && restorePlan.sources.map(\.name) == ["main"], "\(dry.text)")
            #expect(restorePlan.lost.contains { $0.contains("deployment \(d.id) (v1") }, "\(restorePlan.lost)")
            #expect(try await sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'") == "0")
            let back = try await restore(["--before-deployment", String(d.id)])
            #expect(back.contains("before deployment \(d.id)"), "\(back)")
            #expect(try await sql("SELECT count(note), min(note) FROM orders") == "220|late 1", "the column is back with its data")
            // Swapped in as it was at the point: the table the migration created is gone too.
            #expect(try await sql("SELECT to_regclass('made_by_v1') IS NULL") == "t", "the database holds exactly what it held at the point")

            // A drill to the latest point: RTO per phase, RPO measured (the archive's lag), the release started on it.
            let drill = try await s.cli(["drill", "--latest", "--json"])
            #expect(drill.status == 0, "\(drill.text)")
            let report = try SlipwayJSON.decoder().decode(DrillReport.self, from: Data(drill.text.utf8))
            #expect(report.backupId == "continuous latest" && report.release == "v1", "\(report)")
            #expect(["fetch", "recover", "copy", "app_start", "health"].allSatisfy { p in report.phases.contains { $0.name == p } }, "\(report.phases)")
            #expect(report.rpoSeconds <= 10, "RPO is the archive's lag, not a schedule: \(report.rpoSeconds)")
            #expect(report.checks.first?.rowCounts?["public.orders"] == 220, "\(report.checks)")
            #expect(try await psql(server, "SELECT count(*) FROM pg_database WHERE datname LIKE 'slipway_drill_%'") == "0", "the scratch database is gone")

            let verified = try await s.cli(["backup", "verify", "--continuous"])
            #expect(verified.status == 0 && verified.text.contains("present without a gap"), "\(verified.text)")

            // Written while the daemon is down (a finished segment and more): the slot kept the WAL for it.
            try await s.stopDaemon(daemon)
            _ = try await sql("INSERT INTO orders (note) SELECT 'while down ' || g FROM generate_series(1, 30) g")
            _ = try await BackupFixture.psql(server, "SELECT pg_switch_wal()")
            _ = try await sql("INSERT INTO orders (note) VALUES ('last')")
            // Checkpoints let the server recycle every finished segment no one holds: the slot holds them.
            _ = try await psql(server, "CHECKPOINT")
            _ = try await psql(server, "SELECT pg_switch_wal()")
            _ = try await psql(server, "CHECKPOINT")
            #expect(try await psql(server, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '\(slot)'") == "1")
            daemon = try await s.spawnDaemon()
            try await archived()
            let latest = try await restore(["--latest", "--to", copyURL])
            #expect(latest.contains("→ \(serverURL.with(database: copy).redacted)"), "\(latest)")
            #expect(!latest.contains(serverURL.password ?? "\u{0}"), "the password of --to is not echoed")
            #expect(try await psql(copyURL, "SELECT count(*) FROM orders WHERE note LIKE 'while down%' OR note = 'last'") == "31")
            // A point after everything archived: all of it comes back, and the restore says the archive ends before the point.
            _ = try await psql(copyURL, "DELETE FROM orders")
            let beyond = try await restore(["--to-time", ISO8601DateFormatter.withFractions.string(from: Date().addingTimeInterval(3600)), "--to", copyURL])
            #expect(beyond.contains("the archive ends before the point: everything archived was restored"), "\(beyond)")
            #expect(try await psql(copyURL, "SELECT count(*) FROM orders WHERE note LIKE 'while down%' OR note = 'last'") == "31")
            let log = (try? String(contentsOfFile: s.dir + "/daemon.log", encoding: .utf8)) ?? ""
            #expect(!log.contains(pgEnv.password ?? "\u{0}"), "the password never reaches the daemon's log")
        } catch {
            kill(daemon.pid, SIGKILL)
            // Its receiver (a session of its own) would keep the slot busy.
            let receiver = try? String(contentsOfFile: s.config.root + "/continuous/\(env)-main.wal.receiver", encoding: .utf8)
            if let pid = receiver?.split(separator: " ").first.flatMap({ Int32($0) }) { kill(pid, SIGKILL) }
            await s.tearDown()
            s.removeFiles()
            await dropAll()
            throw error
        }
        try await s.stopDaemon(daemon)
        await s.tearDown()
        s.removeFiles()
        await dropAll()
    }
}
