import Foundation
import GRDB
import SlipwayClient
import SlipwayCore
import SlipwayEngine
import SlipwayServer
import Testing

/// Deploys with `backup.before_deploy` and `migrate`: the backup comes first and is tied to the
/// deployment; a failing migration stops the deploy, runs `down`, and the old release keeps serving.
@Suite(.serialized)
struct DeployDataTests {
    static let migrate = """
        set -e
        if [ "$1" = down ]; then echo "down $SLIPWAY_RELEASE" >> "$SLIPWAY_SHARED/migrations.log"; exit 0; fi
        if [ -f fail-migration ]; then echo "migration failed: column total already exists" >&2; exit 3; fi
        echo "up $SLIPWAY_RELEASE" >> "$SLIPWAY_SHARED/migrations.log"
        """

    @Test(.timeLimit(.minutes(3)))
    func failingMigrationKeepsOldReleaseServing() async throws {
        let s = try Sandbox(extra: """
            backup:
              sources:
                - { name: db, sqlite: shared/app.db }
              stores:
                - { local: backups }
              before_deploy: true
              retention: { keep_last: 1 }
            migrate:
              up: "/bin/sh migrate.sh up"
              down: "/bin/sh migrate.sh down"
            """)
        let shared = s.config.sharedDirectory("production")
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        let db = try DatabaseQueue(path: shared + "/app.db")
        try await db.write { try $0.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)") }

        try await s.withDaemon { _ in
            _ = try await s.release("v1", files: ["migrate.sh": Self.migrate])
            _ = try await s.release("v2", files: ["migrate.sh": Self.migrate, "fail-migration": "x"])

            let d1 = try await s.outcome(try await s.deploy("v1"))
            #expect(d1.state == .succeeded, "\(d1)")
            let events: DeploymentProgress = try await s.client.get("/v1/deployments/\(d1.id)?after=0")
            let states = events.events.map(\.state)
            #expect(states.firstIndex(of: .backingUp)! < states.firstIndex(of: .migrating)!)
            #expect(states.firstIndex(of: .migrating)! < states.firstIndex(of: .starting)!)

            let d2 = try await s.outcome(try await s.deploy("v2"))
            #expect(d2.state == .failed)
            #expect(d2.message?.contains("migration exited with status 3") == true, "\(d2.message ?? "")")
            #expect(d2.message?.contains("column total already exists") == true)
            #expect(try await s.status().currentRelease == "v1")
            #expect(try await s.get().hasPrefix("200 hello from demo-app v1"))
            let log = try String(contentsOfFile: shared + "/migrations.log", encoding: .utf8)
            #expect(log == "up v1\ndown v2\n")

            // Both deploys took a backup first, tied to the deployment and the release it preceded.
            let backups: [BackupInfo] = try await s.client.get("/v1/backups")
            #expect(backups.map(\.beforeDeployOf) == ["v2", "v1"])
            #expect(backups.map(\.deploymentId) == [d2.id, d1.id])
            #expect(backups[0].releaseVersion == "v1", "taken while v1 served")
            #expect(backups[0].manifest.entries.first?.rowCounts == ["t": 3])

            // keep_last 1 would drop the older one, but it was taken before the current release's deploy.
            let prune: [PruneReport] = try await s.client.post("/v1/backups/prune", BackupPruneRequest(environment: nil, dryRun: true, actor: "t"))
            let old = try #require(prune[0].decisions.first { $0.id == backups[1].id })
            #expect(old.keep)
            #expect(old.reasons.contains { $0.contains("current release v1") })
            #expect(prune[0].removed.isEmpty)

            // A bad --to is a usage error and changes nothing.
            await #expect(throws: SlipwayError.self) {
                let _: RestoreReport = try await s.client.post("/v1/backups/restore", BackupRestoreRequest(id: backups[0].id, source: nil, to: "postgres://x/y", actor: "t"))
            }
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func rollbackWithDataRestoresCodeAndData() async throws {
        let s = try Sandbox(extra: """
            backup:
              sources:
                - { name: db, sqlite: shared/app.db }
                - { name: uploads, directory: shared/uploads }
              stores:
                - { local: backups }
              before_deploy: true
            """)
        let shared = s.config.sharedDirectory("production")
        try FileManager.default.createDirectory(atPath: shared + "/uploads", withIntermediateDirectories: true)
        let db = try DatabaseQueue(path: shared + "/app.db")
        try await db.write { try $0.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)") }
        func count(_ table: String) async throws -> Int? {
            try await db.read { db in
                // sqlite_master, not GRDB's schema cache: the restore changes the schema under this connection.
                guard try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table]) == 1 else { return nil }
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)")
            }
        }

        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            _ = try await s.release("v2")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            // Life under v1: two more rows and an upload.
            try await db.write { try $0.execute(sql: "INSERT INTO t VALUES (4), (5)") }
            try "a".write(toFile: shared + "/uploads/a.txt", atomically: true, encoding: .utf8)
            #expect(try await s.outcome(try await s.deploy("v2")).state == .succeeded)
            // Life under v2: its schema change and writes, which rolling back with data throws away.
            try await db.write { try $0.execute(sql: "INSERT INTO t VALUES (6), (7); CREATE TABLE u (y); INSERT INTO u VALUES (1)") }
            try "b".write(toFile: shared + "/uploads/b.txt", atomically: true, encoding: .utf8)

            let plan: DataRollbackPlan = try await s.client.get("/v1/rollback/plan?version=v1")
            #expect(plan.currentRelease == "v2")
            #expect(plan.backup.beforeDeployOf == "v2")
            #expect(plan.backup.releaseVersion == "v1")
            #expect(plan.holdLimitMs == 60_000, "the plan says requests are held during the restore")
            let dbChange = try #require(plan.changes.first { $0.source == "db" })
            #expect(dbChange.tables == [.init(name: "t", backupRows: 5, currentRows: 7), .init(name: "u", backupRows: nil, currentRows: 1)])
            #expect(dbChange.summary.contains("t 5 → 7 rows (+2)"), "\(dbChange.summary)")
            #expect(plan.changes.first { $0.source == "uploads" }?.changedFiles == 1)

            // Confirming a backup that is not the one the rollback would use is refused; nothing changes.
            await #expect(throws: SlipwayError.self) {
                _ = try await s.client.post("/v1/deployments", DeployRequest(version: "v1", environment: nil, strategy: nil, kind: .rollback,
                                                                            actor: "t", withData: true, backupId: "production-19700101-000000-0000"), as: DeploymentInfo.self)
            }
            #expect(try await count("t") == 7)

            let d: DeploymentInfo = try await s.client.post("/v1/deployments", DeployRequest(
                version: "v1", environment: nil, strategy: nil, kind: .rollback, actor: "t", withData: true, backupId: plan.backup.id))
            let done = try await s.outcome(d)
            #expect(done.state == .succeeded, "\(done)")
            let events: DeploymentProgress = try await s.client.get("/v1/deployments/\(d.id)?after=0")
            #expect(events.events.map(\.state).contains(.restoringData))
            // The router held v2's requests from before the restore until the switch to v1 (the event log's order).
            let page: EventPage = try await s.client.get("/v1/events?since=0&limit=1000")
            let held = try #require(page.events.firstIndex { if case .maintenance(let m) = $0.payload { m.mode == .paused } else { false } },
                                    "no hold before the restore")
            let restoring = try #require(page.events.firstIndex { if case .deployment(let p) = $0.payload { $0.deploymentId == d.id && p.change == .transition && p.state == .restoringData } else { false } })
            let released = try #require(page.events.lastIndex { if case .maintenance(let m) = $0.payload { m.mode == nil } else { false } },
                                        "the hold was never lifted")
            let switched = try #require(page.events.firstIndex { if case .deployment(let p) = $0.payload { $0.deploymentId == d.id && p.state == .draining } else { false } })
            #expect(held < restoring && restoring < released && released < switched, "hold \(held), restore \(restoring), release \(released), switch done \(switched)")
            #expect(try await s.status().maintenance == nil, "nothing is held after the rollback")
            #expect(try await s.status().currentRelease == "v1")
            #expect(try await s.get().hasPrefix("200 hello from demo-app v1"))
            #expect(try await count("t") == 5)
            #expect(try await count("u") == nil)
            #expect(try FileManager.default.contentsOfDirectory(atPath: shared + "/uploads") == ["a.txt"])

            // The data it replaced is kept: the safety backup holds v2's rows and upload.
            let backups: [BackupInfo] = try await s.client.get("/v1/backups")
            let safety = try #require(backups.first { $0.reason == "before_rollback" })
            #expect(safety.deploymentId == d.id)
            #expect(safety.manifest.entries.first { $0.source == "db" }?.rowCounts == ["t": 7, "u": 1])
            #expect(safety.manifest.entries.first { $0.source == "uploads" }?.fileCount == 2)
        }
    }

    /// v1 deployed, then v2 migrated and was refused (never ready), with `migrate.up`/`down` and `on_failure` as given.
    static func withRefusedMigration(onFailure: String? = nil, _ body: (Sandbox, DeploymentInfo) async throws -> Void) async throws {
        let s = try Sandbox(deadline: "2s", extra: """
            migrate:
              up: "/bin/sh migrate.sh up"
              down: "/bin/sh migrate.sh down"
            """ + (onFailure.map { "\n  on_failure: \($0)" } ?? ""))
        try await s.withDaemon { _ in
            _ = try await s.release("v1", files: ["migrate.sh": Self.migrate])
            _ = try await s.release("v2", ready: false, files: ["migrate.sh": Self.migrate])
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let d2 = try await s.outcome(try await s.deploy("v2"))
            #expect(d2.state == .failed)
            try await body(s, d2)
        }
    }

    /// `migrate.on_failure`: a deploy that migrated and is then refused undoes its migration — with
    /// `migrate.down` by default, else by restoring the backup taken before it.
    @Test(.timeLimit(.minutes(2)))
    func aRefusedDeployUndoesItsMigration() async throws {
        try await Self.withRefusedMigration { s, _ in
            // The undo follows the refusal in the same deployment, under the same lock.
            _ = try await poll(within: .seconds(10)) { try await s.status().lock == nil ? true : nil }
            let log = try String(contentsOfFile: s.config.sharedDirectory("production") + "/migrations.log", encoding: .utf8)
            #expect(log == "up v1\nup v2\ndown v2\n", "v2's migration was not undone: \(log)")
        }
    }

    /// `migrate.on_failure: keep`: a refused deploy leaves its migration in place (the schema is made to work with
    /// both releases), and says so in its history; `migrate.down` is not run.
    @Test(.timeLimit(.minutes(2)))
    func onFailureKeepLeavesTheMigration() async throws {
        try await Self.withRefusedMigration(onFailure: "keep") { s, d2 in
            let kept = try await poll(within: .seconds(10)) { () async throws -> DeploymentProgress? in
                let p: DeploymentProgress = try await s.client.get("/v1/deployments/\(d2.id)?after=0")
                return p.events.contains { $0.detail == "migrate.on_failure keep: the migration of v2 stays" } ? p : nil
            }
            #expect(!kept.events.contains { $0.detail.contains("migrate.down ran") })
            let log = try String(contentsOfFile: s.config.sharedDirectory("production") + "/migrations.log", encoding: .utf8)
            #expect(log == "up v1\nup v2\n", "the migration stays: \(log)")
        }
    }

    /// A release that goes bad after the switch is rolled back by the post-deploy watch, a separate
    /// deployment; with the previous release serving again, the bad release's migration is undone.
    @Test(.timeLimit(.minutes(2)))
    func aRollbackByTheWatchUndoesTheMigration() async throws {
        let s = try Sandbox(extra: """
            watch: 1m
            migrate:
              up: "/bin/sh migrate.sh up"
              down: "/bin/sh migrate.sh down"
            """)
        try await s.withDaemon { _ in
            _ = try await s.release("v1", files: ["migrate.sh": Self.migrate])
            _ = try await s.release("v2", files: ["migrate.sh": Self.migrate], settings: "\"fail_rate\": 1.0, \"fail_after_s\": 2")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let load = LoadLoop(port: s.port)
            load.start(concurrency: 2, maxDuration: .seconds(30))
            let d2 = try await s.outcome(try await s.deploy("v2"))
            #expect(d2.state == .succeeded)
            let found = try await poll(within: .seconds(30)) { () async throws -> DeploymentInfo? in
                let history: [DeploymentInfo] = try await s.client.get("/v1/deployments")
                return history.first { $0.kind == .rollback }
            }
            // Until it let go of the lock: the migration's undo runs after the rollback reads succeeded.
            let rollback = try await s.outcome(found)
            _ = await load.stop()
            #expect(rollback.state == .succeeded && rollback.actor == "watch")
            let path = s.config.sharedDirectory("production") + "/migrations.log"
            let log = try await poll(within: .seconds(10)) { () -> String? in
                let text = try? String(contentsOfFile: path, encoding: .utf8)
                return text?.hasSuffix("down v2\n") == true ? text : nil
            }
            #expect(log == "up v1\nup v2\ndown v2\n", "v2's migration was not undone: \(log)")
            let progress: DeploymentProgress = try await s.client.get("/v1/deployments/\(d2.id)?after=0")
            #expect(progress.events.contains { $0.detail == "migrate.down ran: the migration of v2 was undone" }, "\(progress.events.map(\.detail))")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func withoutADownMigrationTheBackupFromBeforeTheDeployIsRestored() async throws {
        let s = try Sandbox(deadline: "2s", extra: Sandbox.sqliteBackup("before_deploy: true") + """

            migrate:
              up: "sqlite3 $SLIPWAY_SHARED/app.db 'INSERT INTO t VALUES (99)'"
            """)
        let db = try await s.seedDatabase("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            _ = try await s.release("v2", ready: false)
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            #expect(try await db.read { try Int.fetchAll($0, sql: "SELECT x FROM t ORDER BY rowid") } == [1, 99])
            let d2 = try await s.outcome(try await s.deploy("v2"))
            #expect(d2.state == .failed)
            _ = try await poll(within: .seconds(10)) { try await s.status().lock == nil ? true : nil }
            #expect(try await db.read { try Int.fetchAll($0, sql: "SELECT x FROM t ORDER BY rowid") } == [1, 99], "v2's row is gone, v1's stays")
            let progress: DeploymentProgress = try await s.client.get("/v1/deployments/\(d2.id)?after=0")
            #expect(progress.events.contains { $0.detail.hasPrefix("restored ") && $0.detail.contains("as it was before v2's migration") },
                    "\(progress.events.map(\.detail))")
            #expect(try await s.status().maintenance == nil, "the hold during the restore was lifted")
        }
    }

    /// `backup.before_rollback`: a rollback first backs up the data as it is, as the drawer's rollback.sh did.
    @Test(.timeLimit(.minutes(2)))
    func aRollbackBacksUpTheDataFirst() async throws {
        let s = try Sandbox(extra: Sandbox.sqliteBackup("before_rollback: true"))
        _ = try await s.seedDatabase("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)")
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            _ = try await s.release("v2")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            #expect(try await s.outcome(try await s.deploy("v2")).state == .succeeded)
            let before: [BackupInfo] = try await s.client.get("/v1/backups")
            #expect(before.isEmpty, "deploys take none (before_deploy is off)")
            let r = try await s.outcome(try await s.deploy(nil, kind: .rollback))
            #expect(r.state == .succeeded)
            let backups: [BackupInfo] = try await s.client.get("/v1/backups")
            #expect(backups.count == 1)
            #expect(backups.first?.reason == "before_rollback" && backups.first?.deploymentId == r.id)
            #expect(backups.first?.manifest.entries.first?.rowCounts == ["t": 2])
            let progress: DeploymentProgress = try await s.client.get("/v1/deployments/\(r.id)?after=0")
            #expect(progress.events.map(\.state).contains(.backingUp))
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func drillRestoresIntoScratchAndStartsTheRelease() async throws {
        let s = try Sandbox(extra: """
            backup:
              sources:
                - { name: db, sqlite: shared/app.db }
                - { name: uploads, directory: shared/uploads }
              stores:
                - { local: backups }
              rto_target: 1ms
              rpo_target: 1h
            """)
        let shared = s.config.sharedDirectory("production")
        try FileManager.default.createDirectory(atPath: shared + "/uploads", withIntermediateDirectories: true)
        try "a".write(toFile: shared + "/uploads/a.txt", atomically: true, encoding: .utf8)
        let db = try DatabaseQueue(path: shared + "/app.db")
        try await db.write { try $0.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)") }

        try await s.withDaemon { _ in
            await #expect(throws: SlipwayError.self, "no backup yet") {
                _ = try await s.client.post("/v1/drills", DrillRequest(environment: nil, actor: "t"), as: DrillReport.self)
            }
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let backup: BackupInfo = try await s.client.post("/v1/backups", BackupCreateRequest(environment: nil, source: nil, actor: "t"))

            let r: DrillReport = try await s.client.post("/v1/drills", DrillRequest(environment: nil, actor: "t"))
            #expect(r.backupId == backup.id)
            #expect(r.release == "v1")
            #expect(r.phases.map(\.name) == ["download", "decompress", "restore", "integrity", "app_start", "health"])
            // The RTO is what a recovery goes through: the drill's own integrity check is timed but not counted.
            #expect(r.rtoMs == r.phases.filter { $0.name != "integrity" }.reduce(0) { $0 + $1.ms })
            #expect(r.checks.map(\.ok) == [true, true], "\(r.checks)")
            #expect(r.checks.first?.rowCounts == ["t": 3])
            #expect(r.message == nil, "\(r.message ?? "")")
            #expect(r.rpoMet == true)
            // A 1 ms RTO target cannot be met: the drill worked but fails on the target.
            #expect(r.rtoMet == false)
            #expect(!r.ok)
            // The release ran on the scratch copy, not on the live shared directory, which is untouched.
            let log = try String(contentsOfFile: r.logFile, encoding: .utf8)
            #expect(log.contains("demo-app v1 listening"))
            #expect(log.contains("shared data in \(s.config.root)/backups/scratch/drill-"), "\(log)")
            let scratch = try FileManager.default.contentsOfDirectory(atPath: s.config.root + "/backups/scratch")
            #expect(!scratch.contains { $0.hasPrefix("drill-") }, "scratch is cleaned up: \(scratch)")
            #expect(try await db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM t") } == 3)

            // A damaged copy fails the drill (its checksum is checked beside the restore), naming the checksum.
            let archive = "\(s.config.root)/backups/demo/\(backup.environment)/\(backup.id)/" + (backup.manifest.entries.first { $0.source == "db" }?.file ?? "")
            try BackupFixture.corrupt(archive)
            let bad: DrillReport = try await s.client.post("/v1/drills", DrillRequest(environment: nil, actor: "t"))
            #expect(!bad.ok)
            #expect(bad.message?.contains("does not match its checksum") == true, "\(bad.message ?? "")")

            let history: [DrillReport] = try await s.client.get("/v1/drills")
            #expect(history.map(\.id) == [bad.id, r.id])
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func schedulesFireInTheirTimeZoneOncePerSlot() async throws {
        let s = try Sandbox(extra: """
            backup:
              sources:
                - { name: db, sqlite: shared/app.db }
              stores:
                - { local: backups }
              schedule: "0 2 * * *"
              timezone: Europe/Berlin
              retention: { keep_last: 2 }
              verify: { schedule: "30 3 * * 0", restore_test: true }
              drill: { schedule: "0 4 1 * *" }
            """)
        try FileManager.default.createDirectory(atPath: s.config.sharedDirectory("production"), withIntermediateDirectories: true)
        let db = try DatabaseQueue(path: s.config.sharedDirectory("production") + "/app.db")
        try await db.write { try $0.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1)") }
        func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

        try await s.withDaemon(runSchedules: false) { daemon in
            let engine = daemon.engine
            #expect(engine.backups.scheduledJobs().map(\.key) == ["backup:production", "verify:production", "drill:production"])
            // Clocks are injected: Saturday 2026-11-28, 12:00 UTC. The first sight of a schedule starts it from its next slot.
            #expect(await engine.backups.runDueJobs(now: at("2026-11-28T12:00:00Z")).isEmpty)
            #expect(await engine.backups.runDueJobs(now: at("2026-11-29T00:59:00Z")).isEmpty, "01:59 in Berlin: not yet")
            #expect(await engine.backups.runDueJobs(now: at("2026-11-29T01:00:30Z")) == ["backup:production"], "02:00:30 in Berlin")
            #expect(await engine.backups.runDueJobs(now: at("2026-11-29T01:01:00Z")).isEmpty, "once per slot")
            var backups: [BackupInfo] = try await s.client.get("/v1/backups")
            #expect(backups.map(\.reason) == ["scheduled"])
            #expect(backups[0].verifyOk == nil)

            // Sunday 03:30 Berlin: the weekly verification with its restore test.
            #expect(await engine.backups.runDueJobs(now: at("2026-11-29T02:30:00Z")) == ["verify:production"])
            backups = try await s.client.get("/v1/backups")
            #expect(backups[0].verifyOk == true)

            // The daemon was down for three nights: one catch-up backup (and the monthly drill), retention after each.
            #expect(await engine.backups.runDueJobs(now: at("2026-12-02T09:00:00Z")) == ["backup:production", "drill:production"])
            #expect(await engine.backups.runDueJobs(now: at("2026-12-03T01:00:00Z")) == ["backup:production"])
            // keep_last 2 keeps the two newest; the first one stays as the newest verified backup.
            backups = try await s.client.get("/v1/backups")
            #expect(backups.count == 3, "\(backups.map(\.id))")
            #expect(backups.last?.verifyOk == true)
            let drills: [DrillReport] = try await s.client.get("/v1/drills")
            #expect(drills.count == 1)
            #expect(drills.first?.checks.allSatisfy(\.ok) == true)
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func rescanRebuildsTheIndexFromTheStores() async throws {
        let stores = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-stores-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: stores) }
        let yaml = """
            backup:
              sources:
                - { name: db, sqlite: shared/app.db }
              stores:
                - { local: \(stores)/a }
                - { local: \(stores)/b }
            """
        func seed(_ s: Sandbox) throws {
            try FileManager.default.createDirectory(atPath: s.config.sharedDirectory("production"), withIntermediateDirectories: true)
            let db = try DatabaseQueue(path: s.config.sharedDirectory("production") + "/app.db")
            try db.write { try $0.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)") }
        }
        let first = try Sandbox(extra: yaml)
        try seed(first)
        var ids: [String] = []
        try await first.withDaemon { _ in
            for _ in 0..<2 {
                let b: BackupInfo = try await first.client.post("/v1/backups", BackupCreateRequest(environment: nil, source: nil, actor: "t"))
                ids.append(b.id)
            }
        }
        // A new machine (a fresh state root) over the same stores; one copy of the newest backup is gone.
        try FileManager.default.removeItem(atPath: "\(stores)/b/demo/production/\(ids[1])")
        let second = try Sandbox(extra: yaml)
        try seed(second)
        try await second.withDaemon { _ in
            let empty: [BackupInfo] = try await second.client.get("/v1/backups")
            #expect(empty.isEmpty)
            let reports: [RescanReport] = try await second.client.post("/v1/backups/rescan", BackupRescanRequest(environment: nil, actor: "t"))
            #expect(Set(reports[0].imported) == Set(ids))
            #expect(reports[0].errors.isEmpty && reports[0].forgotten.isEmpty)
            let list: [BackupInfo] = try await second.client.get("/v1/backups")
            #expect(list.map(\.id) == ids.reversed())
            #expect(list[0].locations == ["local:\(stores)/a"])
            #expect(list[1].locations == ["local:\(stores)/a", "local:\(stores)/b"])
            // The imported backups are usable: a restore test passes.
            let verified: [VerifyReport] = try await second.client.post("/v1/backups/verify", BackupVerifyRequest(environment: nil, id: ids[0], restoreTest: true, actor: "t"))
            #expect(verified.first?.ok == true, "\(verified)")

            // Gone from every store: forgotten by the next rescan; a copy that vanished is no longer listed.
            try FileManager.default.removeItem(atPath: "\(stores)/a/demo/production/\(ids[1])")
            try FileManager.default.removeItem(atPath: "\(stores)/b/demo/production/\(ids[0])")
            let again: [RescanReport] = try await second.client.post("/v1/backups/rescan", BackupRescanRequest(environment: nil, actor: "t"))
            #expect(again[0].forgotten == [ids[1]])
            #expect(again[0].updated == [ids[0]])
            let now: [BackupInfo] = try await second.client.get("/v1/backups")
            #expect(now.map(\.id) == [ids[0]])
            #expect(now[0].locations == ["local:\(stores)/a"])
        }
    }
}
