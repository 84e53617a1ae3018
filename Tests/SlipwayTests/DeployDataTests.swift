import Foundation
import GRDB
import SlipwayClient
import SlipwayCore
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
        let shared = s.config.sharedDirectory
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        let db = try DatabaseQueue(path: shared + "/app.db")
        try await db.write { try $0.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)") }

        let daemon = try Daemon(config: s.config, routerExecutable: TestBinaries.slipway, logger: quietLogger(), handleSignals: false)
        let run = Task { try await daemon.run() }
        defer { s.removeFiles() }
        do {
            try await s.waitForDaemon()
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
        } catch {
            await s.tearDown()
            await daemon.shutdown()
            _ = try? await run.value
            throw error
        }
        await s.tearDown()
        await daemon.shutdown()
        _ = try? await run.value
    }
}
