import Crypto
import Foundation
import GRDB
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import Testing
@testable import SlipwayEngine

/// Each environment has its own data (`shared/<env>/`) and secrets (`secrets/<env>.env`): nothing done to
/// staging reaches production's.
@Suite(.serialized)
struct EnvironmentDataTests {
    static func config(root: String, environments: [String]) throws -> SlipwayConfig {
        let dir = root + "-cfg"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let envs = environments.enumerated().map { "  \($1): { router: { listen: 127.0.0.1:\(18_000 + $0) } }" }.joined(separator: "\n")
        try """
            app: demo
            root: \(root)
            process: { command: "demo-app" }
            environments:
            \(envs)
            """.write(toFile: dir + "/slipway.yml", atomically: true, encoding: .utf8)
        return try ConfigLoader.load(path: dir + "/slipway.yml")
    }

    static func tempRoot() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("slipway-layout-\(UUID().uuidString.prefix(8))").path
    }

    @Test func anOldSharedDirectoryMovesToProductionOnceAndIsLogged() throws {
        let root = Self.tempRoot()
        defer { try? FileManager.default.removeItem(atPath: root); try? FileManager.default.removeItem(atPath: root + "-cfg") }
        try FileManager.default.createDirectory(atPath: root + "/shared/uploads", withIntermediateDirectories: true)
        try "db".write(toFile: root + "/shared/app.db", atomically: true, encoding: .utf8)
        try "a".write(toFile: root + "/shared/uploads/a.txt", atomically: true, encoding: .utf8)
        let cfg = try Self.config(root: root, environments: ["staging", "production"])
        try RootLayout.prepare(cfg)
        let fm = FileManager.default
        #expect(try String(contentsOfFile: root + "/shared/production/app.db", encoding: .utf8) == "db")
        #expect(fm.fileExists(atPath: root + "/shared/production/uploads/a.txt"))
        #expect(!fm.fileExists(atPath: root + "/shared/app.db"), "moved, not copied")
        #expect(try fm.contentsOfDirectory(atPath: root + "/shared/staging").isEmpty, "staging starts empty")
        // Idempotent: a second start moves nothing, even a file that shows up in shared/ later.
        try "late".write(toFile: root + "/shared/late.txt", atomically: true, encoding: .utf8)
        try RootLayout.prepare(cfg)
        #expect(fm.fileExists(atPath: root + "/shared/late.txt"))
        // The root and the secrets are private.
        #expect(try fm.attributesOfItem(atPath: root)[.posixPermissions] as? Int == 0o750)
        #expect(try fm.attributesOfItem(atPath: root + "/secrets")[.posixPermissions] as? Int == 0o700)
    }

    @Test func severalEnvironmentsWithoutProductionRefuseToGuessAndChangeNothing() throws {
        let root = Self.tempRoot()
        defer { try? FileManager.default.removeItem(atPath: root); try? FileManager.default.removeItem(atPath: root + "-cfg") }
        try FileManager.default.createDirectory(atPath: root + "/shared", withIntermediateDirectories: true)
        try "db".write(toFile: root + "/shared/app.db", atomically: true, encoding: .utf8)
        let cfg = try Self.config(root: root, environments: ["staging", "live"])
        do {
            try RootLayout.prepare(cfg)
            Issue.record("the daemon started without knowing whose data shared/ holds")
        } catch {
            #expect(error.code == .usage && error.message.contains("app.db") && error.message.contains(root + "/shared/<environment>/"), "\(error)")
        }
        #expect(FileManager.default.fileExists(atPath: root + "/shared/app.db"))
        // With the only environment, it is that one's.
        let single = try Self.config(root: root, environments: ["web"])
        try RootLayout.prepare(single)
        #expect(FileManager.default.fileExists(atPath: root + "/shared/web/app.db"))
    }

    @Test func secretsComeFromTheEnvironmentsFileThenTheCommonOneThenTheDaemon() throws {
        let root = Self.tempRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/secrets", withIntermediateDirectories: true)
        try "DB_URL=postgres://staging\nAPI_KEY='staging-key'\n".write(toFile: root + "/secrets/staging.env", atomically: true, encoding: .utf8)
        try "DB_URL=postgres://common\n# comment\n".write(toFile: root + "/secrets.env", atomically: true, encoding: .utf8)
        let secrets = Secrets(root: root, environment: ["DB_URL": "from-daemon", "TOKEN": "t"])
        #expect(try secrets.resolve(["DB_URL", "API_KEY"], environment: "staging") == ["DB_URL": "postgres://staging", "API_KEY": "staging-key"])
        #expect(try secrets.resolve(["DB_URL", "TOKEN"], environment: "production") == ["DB_URL": "postgres://common", "TOKEN": "t"])
        #expect(secrets.source(of: "DB_URL", environment: "staging")?.description == "secrets/staging.env")
        #expect(secrets.source(of: "DB_URL", environment: "production")?.description == "secrets.env")
        #expect(secrets.source(of: "TOKEN", environment: "production")?.description == "the daemon's environment")
        do {
            _ = try secrets.resolve(["API_KEY"], environment: "production")
            Issue.record("production used staging's secret")
        } catch {
            #expect(error.message.contains("API_KEY") && error.message.contains("secrets/production.env") && !error.message.contains("staging-key"))
        }
    }

    /// `slipway check` names every secret the config refers to, where each comes from, and which are not
    /// set, per environment: names only, never a value.
    @Test(.timeLimit(.minutes(1)))
    func checkReportsEachEnvironmentsSecretsByNameOnly() async throws {
        let stagingPort = try PortAllocator.freePort()
        let s = try Sandbox(extra: """
            environments:
              production: { process: { secrets: [API_KEY, DB_URL] } }
              staging: { router: { listen: 127.0.0.1:\(stagingPort) }, process: { secrets: [API_KEY] } }
            """)
        defer { s.removeFiles() }
        let root = s.config.root
        try FileManager.default.createDirectory(atPath: root + "/secrets", withIntermediateDirectories: true)
        try "API_KEY=staging-value-42\n".write(toFile: root + "/secrets/staging.env", atomically: true, encoding: .utf8)
        let out = s.dir + "/check.out"
        var env = ProcessInfo.processInfo.environment
        env["API_KEY"] = nil
        env["DB_URL"] = nil
        let status = try await ProcessSpawner.run(argv: [TestBinaries.slipway, "check", "--config", s.dir + "/slipway.yml"], directory: s.dir,
                                                  environment: env, logFile: out)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(status == 0, "\(text)")
        #expect(text.contains("secret API_KEY: from secrets/staging.env"), "\(text)")
        #expect(text.contains("2 secret(s) not set for production: API_KEY, DB_URL"), "\(text)")
        #expect(!text.contains("staging-value-42"), "a value was printed")
    }

    /// Two environments on one host, each with a SQLite file under its own shared/: a staging restore and
    /// a staging `rollback --with-data` leave production's file byte-identical.
    @Test(.timeLimit(.minutes(3)))
    func stagingRestoresNeverTouchProductionsData() async throws {
        let stagingPort = try PortAllocator.freePort()
        let s = try Sandbox(extra: Sandbox.sqliteBackup("before_deploy: true") + """

            environments:
              production: { process: { secrets: [API_KEY] } }
              staging: { router: { listen: 127.0.0.1:\(stagingPort) }, process: { secrets: [API_KEY] } }
            """)
        let root = s.config.root
        try FileManager.default.createDirectory(atPath: root + "/secrets", withIntermediateDirectories: true)
        try "API_KEY=common\n".write(toFile: root + "/secrets.env", atomically: true, encoding: .utf8)
        try "API_KEY=staging\n".write(toFile: root + "/secrets/staging.env", atomically: true, encoding: .utf8)
        var dbs: [String: DatabaseQueue] = [:]
        for env in ["production", "staging"] {
            dbs[env] = try await s.seedDatabase("CREATE TABLE t (x TEXT); INSERT INTO t VALUES (?)", in: env, arguments: [env])
        }
        func rows(_ env: String) async throws -> [String] { try await dbs[env]!.read { try String.fetchAll($0, sql: "SELECT x FROM t ORDER BY rowid") } }
        func deploy(_ v: String, _ env: String) async throws -> DeploymentInfo {
            try await s.outcome(try await s.client.post("/v1/deployments", DeployRequest(version: v, environment: env, strategy: nil, kind: .deploy, actor: "t")))
        }
        let prodFile = s.config.sharedDirectory("production") + "/app.db"
        func digest() throws -> String { SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: prodFile))).description }

        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            _ = try await s.release("v2")
            #expect(try await deploy("v1", "production").state == .succeeded)
            #expect(try await deploy("v1", "staging").state == .succeeded)
            // Each environment's instances get their own SLIPWAY_SHARED.
            #expect(try await SlipwayHTTPProbe.get(port: s.port, path: "/env").contains("SLIPWAY_SHARED=\(root)/shared/production\n"))
            #expect(try await SlipwayHTTPProbe.get(port: stagingPort, path: "/env").contains("SLIPWAY_SHARED=\(root)/shared/staging\n"))
            // status says where each secret comes from, never the value.
            let status: [EnvironmentStatus] = try await s.client.get("/v1/status")
            #expect(status.first { $0.name == "staging" }?.secrets == [SecretInfo(name: "API_KEY", source: "secrets/staging.env")])
            #expect(status.first { $0.name == "production" }?.secrets == [SecretInfo(name: "API_KEY", source: "secrets.env")])

            try await dbs["staging"]!.write { try $0.execute(sql: "INSERT INTO t VALUES ('staging-2')") }
            #expect(try await deploy("v2", "staging").state == .succeeded)
            try await dbs["staging"]!.write { try $0.execute(sql: "INSERT INTO t VALUES ('staging-3')") }
            try await dbs["production"]!.write { try $0.execute(sql: "INSERT INTO t VALUES ('production-2')") }
            let before = try digest()

            // A staging restore in place.
            let backups: [BackupInfo] = try await s.client.get("/v1/backups?env=staging")
            let stagingBackup = try #require(backups.first { $0.beforeDeployOf == "v2" })
            let _: RestoreReport = try await s.client.post("/v1/backups/restore", BackupRestoreRequest(id: stagingBackup.id, source: nil, to: nil, actor: "t"))
            #expect(try await rows("staging") == ["staging", "staging-2"])
            #expect(try digest() == before, "a staging restore changed production's file")

            // A staging rollback with data.
            try await dbs["staging"]!.write { try $0.execute(sql: "INSERT INTO t VALUES ('staging-4')") }
            let plan: DataRollbackPlan = try await s.client.get("/v1/rollback/plan?env=staging&version=v1")
            #expect(plan.environment == "staging" && plan.backup.environment == "staging")
            let d: DeploymentInfo = try await s.client.post("/v1/deployments", DeployRequest(
                version: "v1", environment: "staging", strategy: nil, kind: .rollback, actor: "t", withData: true, backupId: plan.backup.id))
            #expect(try await s.outcome(d).state == .succeeded)
            #expect(try await rows("staging") == ["staging", "staging-2"])
            #expect(try digest() == before, "a staging rollback --with-data changed production's file")
            #expect(try await rows("production") == ["production", "production-2"])
        }
    }
}
