import Foundation
import GRDB
import SlipwayBackup
import SlipwayCore
import SlipwayRuntime
import Testing

/// Backups of real SQLite files, directories, PostgreSQL 15 and MariaDB servers, into local directories
/// and moto's S3: backup → corrupt one byte → verify names the file → restore round-trips row for row.
@Suite(.serialized)
struct BackupTests {
    func makeSQLite(_ path: String, rows: Int) throws -> DatabaseQueue {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let db = try DatabaseQueue(path: path)
        try db.write { db in
            try db.execute(sql: "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, total REAL, blob BLOB)")
            try db.execute(sql: "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
            for i in 0..<rows {
                try db.execute(sql: "INSERT INTO orders (customer, total, blob) VALUES (?, ?, randomblob(64))", arguments: ["c\(i % 17)", Double(i) * 1.5])
            }
            try db.execute(sql: "INSERT INTO customers (name) VALUES ('ada'), ('grace')")
        }
        return db
    }

    func dumpRows(_ db: DatabaseQueue) throws -> [[String]] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, customer, total, hex(blob) FROM orders ORDER BY id").map { row in
                (0..<4).map { "\(row[$0] as DatabaseValue)" }
            }
        }
    }

    @Test func sqliteBackupCorruptVerifyRestore() async throws {
        let probe = try BackupFixture(sources: [])
        let dbPath = probe.root + "/shared/data/app.db"
        probe.cleanUp()
        let f = try BackupFixture(sources: [.init(name: "db", kind: .sqlite(path: dbPath))], localStores: 2)
        defer { f.cleanUp(); probe.cleanUp() }
        let live = try makeSQLite(dbPath, rows: 500)
        let before = try dumpRows(live)

        let created = try await f.service.create(reason: "manual", release: .init(version: "v1", digest: "d", gitCommit: "abc"))
        let m = created.manifest
        #expect(created.locations.count == 2)
        #expect(m.entries.count == 1)
        #expect(m.entries[0].rowCounts == ["orders": 500, "customers": 2])
        #expect(m.entries[0].rowCountsExact == true)
        #expect(m.release?.gitCommit == "abc")
        // The manifest on disk is the one returned, written last.
        let onDisk = try BackupManifest.decode(Data(contentsOf: URL(fileURLWithPath: "\(f.root)/store0/shop/production/\(m.id)/manifest.json")), from: "t")
        #expect(onDisk.id == m.id && onDisk.entries.map(\.sha256) == m.entries.map(\.sha256))

        let good = try await f.service.verify(m, locations: nil, restoreTest: true)
        #expect(good.ok, "\(good)")
        #expect(good.restores.first?.detail.contains("counts match") == true)

        // One flipped byte in the first store: verify fails and names that file.
        let damaged = f.storedFile(m, "db", store: 0)
        try BackupFixture.corrupt(damaged)
        let bad = try await f.service.verify(m, locations: nil, restoreTest: false)
        #expect(!bad.ok)
        let failing = bad.files.filter { !$0.ok }
        #expect(failing.count == 1)
        #expect(failing.first?.detail.contains(damaged) == true, "\(failing)")

        // Lose data, then restore in place: the good copy (second store) is used, row for row.
        try await live.write { db in try db.execute(sql: "DELETE FROM orders WHERE id % 2 = 0") }
        #expect(try dumpRows(live).count == 250)
        // This process has the database open: the restore goes through the backup API into the same file,
        // and the open connection sees the restored rows.
        let inode = try Self.inode(dbPath)
        let restored = try await f.service.restore(m, locations: nil, only: nil, to: .inPlace)
        #expect(restored == ["db"])
        #expect(try dumpRows(live) == before)
        #expect(try Self.inode(dbPath) == inode)

        // Nobody has it open: the archive is unpacked beside it and renamed over it (a new inode), and
        // the old database's WAL is removed rather than replayed over the restored file.
        try await live.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        try await live.write { db in try db.execute(sql: "DELETE FROM orders WHERE id > 10") }
        try live.close()
        try Data("stale wal".utf8).write(to: URL(fileURLWithPath: dbPath + "-wal"))
        _ = try await f.service.restore(m, locations: nil, only: nil, to: .inPlace)
        #expect(try Self.inode(dbPath) != inode)
        #expect(!FileManager.default.fileExists(atPath: dbPath + "-wal"))
        #expect(try dumpRows(try DatabaseQueue(path: dbPath)) == before)
        let dir = (dbPath as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { !$0.contains(".restore-") })

        // Elsewhere: a new file.
        let copy = f.root + "/copy.db"
        _ = try await f.service.restore(m, locations: nil, only: "db", to: .path(copy))
        #expect(try dumpRows(try DatabaseQueue(path: copy)) == before)
    }

    static func inode(_ path: String) throws -> UInt64 {
        try #require((try FileManager.default.attributesOfItem(atPath: path))[.systemFileNumber] as? UInt64)
    }

    @Test func directoryRoundTrip() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-dir-\(UUID().uuidString.prefix(8))").path
        let uploads = root + "/uploads"
        try FileManager.default.createDirectory(atPath: uploads + "/a/b", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        for i in 0..<20 { try Data("file \(i)".utf8).write(to: URL(fileURLWithPath: "\(uploads)/a/b/f\(i).txt")) }
        let f = try BackupFixture(sources: [.init(name: "uploads", kind: .directory(path: uploads))])
        defer { f.cleanUp() }
        let m = try await f.service.create(reason: "manual", release: nil).manifest
        #expect(m.entries[0].fileCount == 20)
        #expect(try await f.service.verify(m, locations: nil, restoreTest: true).ok)
        try FileManager.default.removeItem(atPath: uploads + "/a")
        _ = try await f.service.restore(m, locations: nil, only: nil, to: .inPlace)
        #expect(try String(contentsOfFile: uploads + "/a/b/f7.txt", encoding: .utf8) == "file 7")
        #expect(!FileManager.default.fileExists(atPath: root + "/.uploads.old"), "no leftovers beside the directory")
    }

    @Test(.enabled(if: TestServices.hasPostgres, Comment(rawValue: TestServices.skipNote)))
    func postgresBackupCorruptVerifyRestore() async throws {
        // A database of its own: the restore swaps it for a new one and ends its connections (no other test's).
        let server = try DatabaseURL(parsing: try #require(TestServices.postgres, "SLIPWAY_TEST_PG_URL is not set"), secret: "t")
        let name = "backup_\(UUID().uuidString.prefix(6).lowercased())"
        _ = try await BackupFixture.psql(server.with(database: "postgres").fullURL, "CREATE DATABASE \(name)")
        let url = server.with(database: name).fullURL
        let table = "orders_\(UUID().uuidString.prefix(6).lowercased())"
        _ = try await BackupFixture.psql(url, """
            CREATE TABLE \(table) (id serial PRIMARY KEY, note text, payload bytea, amount numeric(10,2));
            INSERT INTO \(table) (note, payload, amount) SELECT 'order ' || g, decode(md5(g::text), 'hex'), g * 1.25 FROM generate_series(1, 20000) g;
            """)
        // Values COPY must escape (a backslash, a newline, a tab, a lone \., NULL, non-ASCII) come back as they were.
        _ = try await BackupFixture.psql(url, #"""
            CREATE TABLE \#(table)_odd (id serial PRIMARY KEY, v text);
            INSERT INTO \#(table)_odd (v) SELECT CASE g % 7 WHEN 0 THEN E'back\\slash' WHEN 1 THEN E'line\nbreak' WHEN 2 THEN E'tab\there'
              WHEN 3 THEN '\.' WHEN 4 THEN NULL WHEN 5 THEN E'\\.\n\\.' ELSE 'ünïcødé ' || repeat('x', g % 90) END FROM generate_series(1, 6000) g;
            """#)
        // A table of a type binary COPY cannot carry (aclitem) stays with pg_dump; a generated column is not copied but
        // computed again; a sequence keeps its value.
        _ = try await BackupFixture.psql(url, """
            CREATE TABLE \(table)_acl (id int PRIMARY KEY, a aclitem, twice int GENERATED ALWAYS AS (id * 2) STORED);
            INSERT INTO \(table)_acl (id, a) VALUES (1, 'postgres=r/postgres'), (2, '=c/postgres');
            CREATE SEQUENCE \(table)_seq; SELECT setval('\(table)_seq', 4242);
            """)
        let select = "SELECT id, note, encode(payload, 'hex'), amount FROM \(table) ORDER BY id; SELECT count(*), count(v), md5(string_agg(coalesce(v, '<null>'), '|' ORDER BY id)) FROM \(table)_odd; "
            + "SELECT id, a::text, twice FROM \(table)_acl ORDER BY id; SELECT last_value FROM \(table)_seq"
        let before = try await BackupFixture.psql(url, select)
        let f = try BackupFixture(sources: [.init(name: "main", kind: .postgres(urlSecret: "DATABASE_URL"))], secrets: ["DATABASE_URL": url])
        defer { f.cleanUp() }
        let m = try await f.service.create(reason: "manual", release: nil).manifest
        #expect(m.entries[0].rowCounts?["public.\(table)"] == 20000)
        #expect(m.entries[0].rowCountsExact == true)
        #expect(m.entries[0].tool.contains("pg_dump"))
        // The rows as binary COPY beside a pg_dump of the rest.
        #expect(m.entries[0].format == "copy")
        #expect(m.entries[0].file.hasPrefix("main.pgcopy"))
        // The big table's rows as binary COPY; the small one, and the one of a type without binary I/O, with pg_dump.
        let head = try await f.copyArchiveHead(m, "main")
        #expect(head.contains("\"name\":\"\(table)\""))
        #expect(!head.contains("\(table)_odd") && !head.contains("\(table)_acl"))
        // The password never reaches a log.
        let password = try #require(try DatabaseURL(parsing: url, secret: "t").password)
        let log = try String(contentsOfFile: f.service.logFile("backup", m.id), encoding: .utf8)
        #expect(!log.contains(password))

        let verified = try await f.service.verify(m, locations: nil, restoreTest: true)
        #expect(verified.ok, "\(verified)")

        try BackupFixture.corrupt(f.storedFile(m, "main"))
        let bad = try await f.service.verify(m, locations: nil, restoreTest: false)
        #expect(!bad.ok && bad.files[0].detail.contains(m.entries[0].file))

        // Restore a fresh backup in place after losing rows: into a new database swapped in by rename (a superuser may),
        // which keeps the database's own settings, ends the connections to the old one, and holds exactly the dump.
        let m2 = try await f.service.create(reason: "manual", release: nil).manifest
        _ = try await BackupFixture.psql(url, "DELETE FROM \(table) WHERE id > 100; CREATE TABLE \(table)_later (x int)")
        _ = try await BackupFixture.psql(url, "ALTER DATABASE \(name) SET work_mem = '7MB'")
        let oid = try await BackupFixture.psql(url, "SELECT oid FROM pg_database WHERE datname = current_database()")
        let held = try Coprocess(argv: ["psql", "-X", "-q", "--dbname=\(try DatabaseURL(parsing: url, secret: "t").redacted)"],
                                 environment: try DatabaseURL(parsing: url, secret: "t").postgresEnvironment(), logFile: f.root + "/held.log")
        try held.send("SELECT 1;\n")
        _ = try await f.service.restore(m2, locations: nil, only: nil, to: .inPlace)
        try held.send("SELECT 1;\n\\q\n")
        _ = await held.wait()
        #expect(((try? String(contentsOfFile: f.root + "/held.log", encoding: .utf8)) ?? "").contains("terminating connection"), "the old database's sessions were ended")
        #expect(try await BackupFixture.psql(url, select) == before)
        #expect(try await BackupFixture.psql(url, "SELECT oid FROM pg_database WHERE datname = current_database()") != oid, "swapped in by rename")
        #expect(try await BackupFixture.psql(url, "SELECT to_regclass('\(table)_later') IS NULL") == "t\n", "exactly what the dump holds")
        #expect(try await BackupFixture.psql(url, "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND setrole = 0") == "work_mem=7MB\n")
        _ = try await poll(within: .seconds(30), "the old database is dropped (in the background)") {
            try await BackupFixture.psql(url, "SELECT count(*) FROM pg_database WHERE datname LIKE '\(name)_slipway_%'") == "0\n" ? true : nil
        }

        // A drill restores into a scratch database the app is pointed at through its secret, then drops it.
        let drill = try await f.service.drillRestore(m2, locations: nil, sharedDirectory: f.root + "/shared", log: f.root + "/drill.log")
        #expect(drill.checks.map(\.ok) == [true], "\(drill.checks)")
        #expect(drill.phases.map(\.name) == ["download", "decompress", "restore", "integrity"])
        let scratch = try #require(drill.environment["DATABASE_URL"])
        #expect(scratch.contains("/slipway_drill_"))
        #expect(try await BackupFixture.psql(scratch, select) == before)
        await f.service.cleanUp(drill, log: f.root + "/drill.log")
        #expect(await (try? BackupFixture.psql(scratch, "SELECT 1")) == nil, "the scratch database is dropped")
        _ = try? await BackupFixture.psql(server.with(database: "postgres").fullURL, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// A role that may not create databases restores in place, in one transaction: what the archive holds is dropped
    /// with pg_restore's own statements (the foreign key of a table that sorts first before the table it references),
    /// created again, the rows loaded as binary COPY, then indexes, constraints and the view; the database is the same one.
    @Test(.enabled(if: TestServices.hasPostgres, Comment(rawValue: TestServices.skipNote)))
    func postgresRestoreInPlaceInOneTransaction() async throws {
        let server = try DatabaseURL(parsing: try #require(TestServices.postgres, "SLIPWAY_TEST_PG_URL is not set"), secret: "t")
        let id = UUID().uuidString.prefix(6).lowercased()
        let admin = server.with(database: "postgres").fullURL
        _ = try await BackupFixture.psql(admin, "CREATE ROLE owner_\(id) LOGIN PASSWORD 'pw-\(id)' NOCREATEDB")
        _ = try await BackupFixture.psql(admin, "CREATE DATABASE one_\(id) OWNER owner_\(id)")
        var u = server.with(database: "one_\(id)")
        u.user = "owner_\(id)"
        u.password = "pw-\(id)"
        let url = u.fullURL
        _ = try await BackupFixture.psql(url, """
            CREATE TABLE z_parent (id int PRIMARY KEY, name text NOT NULL);
            CREATE TABLE a_child (id bigserial PRIMARY KEY, parent int NOT NULL REFERENCES z_parent, at timestamptz NOT NULL, tags text[]);
            CREATE INDEX ON a_child (parent);
            CREATE VIEW child_count AS SELECT parent, count(*) AS n FROM a_child GROUP BY parent;
            INSERT INTO z_parent SELECT g, 'parent ' || g FROM generate_series(1, 50) g;
            INSERT INTO a_child (parent, at, tags) SELECT g % 50 + 1, '2026-12-06 10:00:00+00'::timestamptz + g * interval '1 second', ARRAY['a', g::text]
              FROM generate_series(1, 20000) g;
            """)
        let select = "SELECT count(*), md5(string_agg(id || ':' || parent || ':' || at || ':' || tags::text, ',' ORDER BY id)) FROM a_child; SELECT sum(n) FROM child_count; SELECT last_value FROM a_child_id_seq"
        let before = try await BackupFixture.psql(url, select)
        let oid = try await BackupFixture.psql(admin, "SELECT oid FROM pg_database WHERE datname = 'one_\(id)'")
        let f = try BackupFixture(sources: [.init(name: "main", kind: .postgres(urlSecret: "DATABASE_URL"))], secrets: ["DATABASE_URL": url])
        defer { f.cleanUp() }
        let m = try await f.service.create(reason: "manual", release: nil).manifest
        #expect(m.entries[0].format == "copy")
        let head = try await f.copyArchiveHead(m, "main")
        #expect(head.contains("\"name\":\"a_child\"") && !head.contains("z_parent"), "a_child as binary COPY, z_parent with pg_dump")
        _ = try await BackupFixture.psql(url, "DELETE FROM a_child WHERE id > 10; INSERT INTO z_parent VALUES (99, 'later'); SELECT setval('a_child_id_seq', 1)")
        _ = try await f.service.restore(m, locations: nil, only: nil, to: .inPlace)
        #expect(try await BackupFixture.psql(url, select) == before)
        #expect(try await BackupFixture.psql(url, "SELECT count(*) FROM z_parent") == "50\n")
        #expect(try await BackupFixture.psql(url, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = 'a_child'::regclass") == "1\n")
        #expect(try await BackupFixture.psql(admin, "SELECT oid FROM pg_database WHERE datname = 'one_\(id)'") == oid, "restored in place, not swapped")
        _ = try? await BackupFixture.psql(admin, "DROP DATABASE IF EXISTS one_\(id) WITH (FORCE)")
        _ = try? await BackupFixture.psql(admin, "DROP ROLE IF EXISTS owner_\(id)")
    }

    /// A backup an older Slipway took (a plain `pg_dump -Fc` archive, no `format` in its manifest) still restores.
    @Test(.enabled(if: TestServices.hasPostgres, Comment(rawValue: TestServices.skipNote)))
    func postgresOlderPlainDumpStillRestores() async throws {
        let server = try DatabaseURL(parsing: try #require(TestServices.postgres, "SLIPWAY_TEST_PG_URL is not set"), secret: "t")
        let name = "older_\(UUID().uuidString.prefix(6).lowercased())"
        let admin = server.with(database: "postgres").fullURL
        _ = try await BackupFixture.psql(admin, "CREATE DATABASE \(name)")
        let u = server.with(database: name)
        _ = try await BackupFixture.psql(u.fullURL, "CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g")
        let select = "SELECT count(*), md5(string_agg(v, ',' ORDER BY id)) FROM items"
        let before = try await BackupFixture.psql(u.fullURL, select)
        let f = try BackupFixture(sources: [.init(name: "main", kind: .postgres(urlSecret: "DATABASE_URL"))], secrets: ["DATABASE_URL": u.fullURL])
        defer { f.cleanUp() }
        var m = try await f.service.create(reason: "manual", release: nil).manifest
        let stored = f.storedFile(m, "main")
        try await ProcessPipeline([.init(["pg_dump", "--format=custom", "--compress=0", "--dbname=\(u.redacted)"], environment: u.postgresEnvironment()),
                                   .init(["zstd", "-q", "-3", "-c"])], output: stored, logFile: f.root + "/older.log").run()
        m.entries[0].format = nil
        m.entries[0].sha256 = String(try await BackupFixture.query(["sha256sum", stored], env: ProcessInfo.processInfo.environment).prefix(64))
        m.entries[0].size = (try FileManager.default.attributesOfItem(atPath: stored)[.size] as? NSNumber)?.int64Value ?? 0
        _ = try await BackupFixture.psql(u.fullURL, "DELETE FROM items WHERE id % 3 = 0")
        _ = try await f.service.restore(m, locations: nil, only: nil, to: .inPlace)
        #expect(try await BackupFixture.psql(u.fullURL, select) == before)
        _ = try? await BackupFixture.psql(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    @Test(.enabled(if: TestServices.hasMySQL, Comment(rawValue: TestServices.skipNote)))
    func mariadbBackupCorruptVerifyRestore() async throws {
        let url = try #require(TestServices.mysql, "SLIPWAY_TEST_MYSQL_URL is not set")
        let table = "orders_\(UUID().uuidString.prefix(6).lowercased())"
        _ = try await BackupFixture.mysql(url, """
            CREATE TABLE \(table) (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(100), payload VARBINARY(32), amount DECIMAL(10,2));
            INSERT INTO \(table) (note, payload, amount) SELECT CONCAT('order ', seq), UNHEX(MD5(seq)), seq * 1.25 FROM seq_1_to_1500;
            """)
        let select = "SELECT id, note, HEX(payload), amount FROM \(table) ORDER BY id"
        let before = try await BackupFixture.mysql(url, select)
        let f = try BackupFixture(sources: [.init(name: "orders", kind: .mysql(urlSecret: "MYSQL_URL"))], secrets: ["MYSQL_URL": url])
        defer { f.cleanUp() }
        let m = try await f.service.create(reason: "manual", release: nil).manifest
        #expect(m.entries[0].rowCounts?[table] == 1500)
        let verified = try await f.service.verify(m, locations: nil, restoreTest: true)
        #expect(verified.ok, "\(verified)")
        try BackupFixture.corrupt(f.storedFile(m, "orders"))
        #expect(!(try await f.service.verify(m, locations: nil, restoreTest: false)).ok)
        let m2 = try await f.service.create(reason: "manual", release: nil).manifest
        _ = try await BackupFixture.mysql(url, "DELETE FROM \(table) WHERE id > 10")
        _ = try await f.service.restore(m2, locations: nil, only: nil, to: .inPlace)
        #expect(try await BackupFixture.mysql(url, select) == before)

        let drill = try await f.service.drillRestore(m2, locations: nil, sharedDirectory: f.root + "/shared", log: f.root + "/drill.log")
        #expect(drill.checks.map(\.ok) == [true], "\(drill.checks)")
        let scratch = try #require(drill.environment["MYSQL_URL"])
        #expect(try await BackupFixture.mysql(scratch, select) == before)
        await f.service.cleanUp(drill, log: f.root + "/drill.log")
        #expect(await (try? BackupFixture.mysql(scratch, "SELECT 1")) == nil, "the scratch database is dropped")
    }

    @Test(.enabled(if: TestServices.hasS3, Comment(rawValue: TestServices.skipNote)))
    func s3StoreMultipartVerifyRestore() async throws {
        let endpoint = try #require(TestServices.s3Endpoint, "SLIPWAY_TEST_S3_ENDPOINT is not set")
        let probe = try BackupFixture(sources: [])
        probe.cleanUp()
        let dbPath = probe.root + "/shared/app.db"
        let s3 = S3StoreConfig(bucket: TestServices.s3Bucket, endpoint: endpoint, region: "us-east-1", prefix: "t\(UUID().uuidString.prefix(6))/",
                               accessKeySecret: "S3_KEY", secretKeySecret: "S3_SECRET", pathStyle: true)
        let f = try BackupFixture(sources: [.init(name: "db", kind: .sqlite(path: dbPath))], secrets: ["S3_KEY": "testing", "S3_SECRET": "testing"],
                                  stores: [.s3(s3)], localStores: 0)
        defer { f.cleanUp(); probe.cleanUp() }
        // Random blobs do not compress: well above one 16 MiB part, so the upload is multipart.
        let live = try makeSQLite(dbPath, rows: 10)
        try await live.write { db in
            try db.execute(sql: "CREATE TABLE big (b BLOB)")
            for _ in 0..<40 { try db.execute(sql: "INSERT INTO big VALUES (randomblob(1048576))") }
        }
        let created = try await f.service.create(reason: "manual", release: nil)
        #expect(created.locations == ["s3://\(TestServices.s3Bucket)/\(s3.prefix)"])
        #expect(created.manifest.entries[0].size > 32 << 20)
        #expect(created.manifest.entries[0].compression == "none", "incompressible data is stored as is")
        let listed = try await f.service.stores[0].manifests(app: "shop", environment: "production")
        #expect(listed.map(\.id) == [created.manifest.id])
        #expect(try await f.service.verify(created.manifest, locations: nil, restoreTest: true).ok)
        let before = try dumpRows(live)
        try await live.write { db in try db.execute(sql: "DELETE FROM orders") }
        _ = try await f.service.restore(created.manifest, locations: nil, only: nil, to: .inPlace)
        #expect(try dumpRows(live) == before)
        _ = await f.service.remove(created.manifest, locations: nil)
        #expect(try await f.service.stores[0].manifests(app: "shop", environment: "production").isEmpty)
    }
}
