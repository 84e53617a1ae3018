import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `accessories:`: a Redis from Debian's redis-server per environment, started by the daemon and left alone by
/// deploys; restarted after `kill -9`; `stop`, `start` and `restart` (which applies a changed config) by the CLI.
@Suite(.serialized)
struct AccessoryTests {
    static let redis = "/usr/bin/redis-server"
    static var hasRedis: Bool { FileManager.default.isExecutableFile(atPath: redis) || TestServices.required }
    static let skipNote = Comment(rawValue: "needs Debian's redis-server (scripts/test.sh installs it)")

    /// What `redis-cli -p PORT` answers to `args`.
    static func redisCLI(_ port: Int, _ args: [String], in dir: String) async throws -> String {
        let out = dir + "/redis-cli-\(UUID().uuidString.prefix(6)).out"
        defer { try? FileManager.default.removeItem(atPath: out) }
        _ = try await ProcessSpawner.run(argv: ["redis-cli", "-p", String(port)] + args, directory: dir, environment: ProcessInfo.processInfo.environment, logFile: out)
        return (try? String(contentsOfFile: out, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    static func accessories(_ s: Sandbox) async throws -> [AccessoryInfo] { try await s.client.get("/v1/accessories") }

    @Test(.timeLimit(.minutes(2)), .enabled(if: hasRedis, skipNote))
    func eachEnvironmentsRedisOutlivesDeploysIsRestartedAfterAKillAndChangesOnlyByRestart() async throws {
        let production = try PortAllocator.freePort(), staging = try PortAllocator.freePort(), stagingRouter = try PortAllocator.freePort()
        let api = try PortAllocator.freePort()
        let s = try Sandbox(extra: """
            server: { listen: "127.0.0.1:\(api)" }
            accessories:
              redis: { command: "\(Self.redis) --port \(production) --dir $SLIPWAY_SHARED", health: { tcp: \(production) } }
            environments:
              production: {}
              staging:
                router: { listen: "127.0.0.1:\(stagingRouter)" }
                accessories:
                  redis: { command: "\(Self.redis) --port \(staging) --dir $SLIPWAY_SHARED", health: { tcp: \(staging) } }
            """)
        try await s.withDaemon { _ in
            // Both start without a deploy, each on its own port and data directory.
            let up = try await poll(within: .seconds(20)) { () async throws -> [AccessoryInfo]? in
                let all = try await Self.accessories(s)
                return all.count == 2 && all.allSatisfy({ $0.state == .running && $0.ready }) ? all : nil
            }
            let first = try #require(up.first { $0.environment == "production" }?.pid)
            let theirs = try #require(up.first { $0.environment == "staging" }?.pid)
            #expect(first != theirs)
            #expect(try await Self.redisCLI(production, ["SET", "k", "production"], in: s.dir) == "OK")
            #expect(try await Self.redisCLI(staging, ["GET", "k"], in: s.dir) == "", "staging's Redis is its own")

            // Three deploys leave it alone: same pid, same data.
            _ = try await s.release("v1")
            _ = try await s.release("v2")
            // Back to back, as a script would: each `slipway deploy` returns once its deployment let go of the lock.
            for v in ["v1", "v2", "v1"] {
                let deployed = try await s.cli(["deploy", v, "--env", "production"])
                #expect(deployed.status == 0, "\(deployed.text)")
            }
            #expect(try await Self.accessories(s).first { $0.environment == "production" }?.pid == first)
            #expect(try await Self.redisCLI(production, ["GET", "k"], in: s.dir) == "production")

            // kill -9: started again (a new pid), serving.
            kill(first, SIGKILL)
            let again = try await poll(within: .seconds(20)) { () async throws -> AccessoryInfo? in
                try await Self.accessories(s).first { $0.environment == "production" && $0.state == .running && $0.ready && $0.pid != first }
            }
            #expect(again.restarts == 1)
            #expect(try await Self.redisCLI(production, ["PING"], in: s.dir) == "PONG")

            // stop: down, and the supervision leaves it down; start brings it back.
            let stopped = try await s.cli(["accessory", "stop", "redis", "--env", "production"])
            #expect(stopped.status == 0 && stopped.text.contains("production/redis: stopped"), "\(stopped.text)")
            // Not started again: five supervision passes (every 500 ms), more than the first back-off after a stop (1 s).
            try await Task.sleep(for: .milliseconds(2500))
            #expect(try await Self.accessories(s).first { $0.environment == "production" }?.state == .stopped)
            #expect(try await Self.redisCLI(production, ["PING"], in: s.dir) != "PONG")
            let started = try await s.cli(["accessory", "start", "redis", "--env", "production"])
            #expect(started.status == 0 && started.text.contains("production/redis: running"), "\(started.text)")

            // A changed config is drift until `restart` applies it; a deploy does not.
            let yaml = try String(contentsOfFile: s.dir + "/slipway.yml", encoding: .utf8)
            try yaml.replacingOccurrences(of: "--port \(production) --dir", with: "--port \(production) --maxclients 77 --dir")
                .write(toFile: s.dir + "/slipway.yml", atomically: true, encoding: .utf8)
            let drifted = try await poll(within: .seconds(10)) { () async throws -> AccessoryInfo? in
                try await Self.accessories(s).first { $0.environment == "production" && $0.drift }
            }
            let list = try await s.cli(["accessory", "list"])
            #expect(list.text.contains("config changed: accessory restart redis applies it"), "\(list.text)")
            let status = try await s.cli(["status", "--env", "production"])
            #expect(status.text.contains("accessory redis: running (pid \(drifted.pid ?? 0)), ready; config changed"), "\(status.text)")
            let checked = try await s.cli(["check"])
            #expect(checked.status == 0 && checked.text.contains("accessory redis of production: runs with other settings than this file's; slipway accessory restart redis --env production applies them"),
                    "\(checked.text)")
            let restarted = try await s.cli(["accessory", "restart", "redis", "--env", "production"])
            #expect(restarted.status == 0, "\(restarted.text)")
            let applied = try await poll(within: .seconds(20)) { () async throws -> AccessoryInfo? in
                try await Self.accessories(s).first { $0.environment == "production" && $0.ready && !$0.drift && $0.pid != drifted.pid }
            }
            #expect(try await Self.redisCLI(production, ["CONFIG", "GET", "maxclients"], in: s.dir).hasSuffix("77"))
            let logs = try await s.cli(["accessory", "logs", "redis", "--env", "production"])
            #expect(logs.status == 0 && logs.text.contains("Ready to accept connections"), "\(logs.text)")
            _ = applied
            // The dashboard's environment page lists it.
            let login = try await s.cli(["dashboard"])
            let url = try #require(login.text.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("http://") }.map(String.init), "\(login.text)")
            let session = try await DashboardBrowserTests.session(url, api: api)
            let page = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/ui/env/production", headers: [("Cookie", session.cookie)]).bodyText
            let table = try #require(page.range(of: "<table id=\"accessories\">").map { String(page[$0.lowerBound...].prefix(800)) }, "\(page.prefix(2000))")
            #expect(table.contains("<td>redis</td><td>running</td><td>\(applied.pid ?? 0)</td><td>yes</td>"), "\(table)")

            // Unknown names are usage errors naming what exists.
            let unknown = try await s.cli(["accessory", "restart", "nats", "--env", "production"])
            #expect(unknown.status == 2 && unknown.text.contains("production has no accessory 'nats' (it has: redis)"), "\(unknown.text)")
        }
        // Accessories outlive the daemon, like instances; the sandbox's teardown ends them.
    }
    /// An accessory that exits at once is started again with a back-off, and three exits in a row fire
    /// `accessory-crash-loop` (P1) naming it and its log.
    @Test(.timeLimit(.minutes(1)))
    func anAccessoryThatKeepsExitingFiresTheCrashLoopAlert() async throws {
        let s = try Sandbox(extra: """
            accessories:
              broken: { command: "/bin/sh -c 'echo cannot bind; exit 3'" }
            """)
        try await s.withDaemon { _ in
            let firing = try await poll(within: .seconds(30)) { () async throws -> AlertInfo? in
                let all: [AlertInfo] = try await s.client.get("/v1/alerts")
                return all.first { $0.name == "accessory-crash-loop" && $0.state == .firing }
            }
            #expect(firing.severity == .p1 && firing.summary.contains("broken exited 3 times in a row") && firing.summary.contains("accessory-production-broken.log"),
                    "\(firing.summary)")
            let logs = try await s.cli(["accessory", "logs", "broken"])
            #expect(logs.text.contains("cannot bind"), "\(logs.text)")
        }
    }
    /// An in-place restore of the files under an accessory holds it down meanwhile and starts it again after, so it
    /// reads the restored data (and does not write the old over it).
    @Test(.timeLimit(.minutes(2)), .enabled(if: hasRedis, skipNote))
    func anInPlaceRestoreHoldsTheAccessoryAndItComesBackWithTheRestoredData() async throws {
        let port = try PortAllocator.freePort()
        let s = try Sandbox(extra: """
            accessories:
              redis: { command: "\(Self.redis) --port \(port) --dir $SLIPWAY_SHARED", health: { tcp: \(port) } }
            backup:
              sources: [{ name: redis, directory: shared }]
              stores: [{ local: backups }]
            """)
        try await s.withDaemon { _ in
            let before = try await poll(within: .seconds(20)) { () async throws -> AccessoryInfo? in
                try await Self.accessories(s).first { $0.state == .running && $0.ready }
            }
            #expect(try await Self.redisCLI(port, ["SET", "k", "backed up"], in: s.dir) == "OK")
            #expect(try await Self.redisCLI(port, ["SAVE"], in: s.dir) == "OK")
            let created = try await s.cli(["backup", "create", "--json"])
            #expect(created.status == 0, "\(created.text)")
            let id = try #require(try SlipwayJSON.decoder().decode(BackupInfo.self, from: Data(created.text.utf8)).id as String?)
            #expect(try await Self.redisCLI(port, ["SET", "k", "changed later"], in: s.dir) == "OK")
            #expect(try await Self.redisCLI(port, ["SAVE"], in: s.dir) == "OK")

            let restored = try await s.cli(["backup", "restore", id, "--yes"])
            #expect(restored.status == 0, "\(restored.text)")
            let after = try await poll(within: .seconds(20)) { () async throws -> AccessoryInfo? in
                try await Self.accessories(s).first { $0.state == .running && $0.ready && $0.pid != before.pid }
            }
            #expect(after.restarts == before.restarts + 1)
            #expect(try await Self.redisCLI(port, ["GET", "k"], in: s.dir) == "backed up")
        }
    }
    /// A daemon that died after starting an accessory and before recording it: the next one finds the process by
    /// the variables it was started with and adopts it instead of starting a second.
    @Test(.timeLimit(.minutes(1)))
    func anAccessoryStartedButNeverRecordedIsAdoptedNotDoubled() async throws {
        let s = try Sandbox(extra: """
            accessories:
              idle: { command: "/bin/sleep 1000" }
            """)
        let shared = s.config.sharedDirectory("production")
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        let marks = ["SLIPWAY_ACCESSORY": "idle", "SLIPWAY_ENV": "production", "SLIPWAY_SHARED": shared]
        let orphan = try ProcessSpawner.spawn(argv: ["/bin/sleep", "1000"], directory: shared,
                                              environment: ProcessInfo.processInfo.environment.merging(marks) { $1 }, logFile: s.dir + "/orphan.log")
        try await s.withDaemon { _ in
            let adopted = try await poll(within: .seconds(10)) { () async throws -> AccessoryInfo? in
                try await Self.accessories(s).first { $0.state == .running }
            }
            #expect(adopted.pid == orphan.pid && adopted.restarts == 0)
            // Four supervision passes later, still the one process.
            try await Task.sleep(for: .seconds(2))
            #expect(ProcessInspector.processes(withEnvironment: marks) == [orphan.pid])
        }
    }
}
