import Foundation
import Logging
import SlipwayClient
import SlipwayCore
import SlipwayEngine
import SlipwayRuntime
import SlipwayServer

/// The binaries this build produced: the router runs as `slipway router`, the app as `demo-app`.
enum TestBinaries {
    static var directory: String {
        if let d = ProcessInfo.processInfo.environment["SLIPWAY_TEST_BIN"], !d.isEmpty { return d }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: exe)
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("slipway").path) {
            url.deleteLastPathComponent()
        }
        return url.path
    }
    static var slipway: String { directory + "/slipway" }
    static var demoApp: String { directory + "/demo-app" }

    /// `slipway ARGS` run in `dir` without a daemon: its exit status and what it printed (stdout and stderr).
    static func cli(_ args: [String], in dir: String = FileManager.default.temporaryDirectory.path) async throws -> (status: Int32, text: String) {
        let out = dir + "/.out-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let status = try await ProcessSpawner.run(argv: [slipway] + args, directory: dir, environment: ProcessInfo.processInfo.environment, logFile: out)
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }
}

/// A temp directory with a slipway.yml for demo-app, releases to deploy, and a client.
final class Sandbox: @unchecked Sendable {  // immutable after init
    let dir: String
    let port: Int
    let config: SlipwayConfig
    let client: DaemonClient

    /// `processes`: a `processes:` section instead of the one `process:` of demo-app.
    /// `yaml`: the whole slipway.yml instead (`$PORT_ROUTER` in it: the router's port).
    init(strategy: String = "blue-green", deadline: String = "5s", extra: String = "", app: String = "demo", processes: String? = nil, yaml whole: String? = nil) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-test-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        port = try PortAllocator.freePort()
        let process = processes ?? """
            process:
              command: "\(TestBinaries.demoApp) --port $PORT"
              instances: 2
              stop_timeout: 3s
            """
        let yaml = """
            app: \(app)
            \(process)
            health:
              path: /health/ready
              interval: 100ms
              timeout: 1s
              healthy_threshold: 2
              deadline: \(deadline)
            router:
              listen: 127.0.0.1:\(port)
              drain_timeout: 5s
            strategy: \(strategy)
            \(extra)
            """
        try (whole?.replacingOccurrences(of: "$PORT_ROUTER", with: String(port)) ?? yaml).write(toFile: dir + "/slipway.yml", atomically: true, encoding: .utf8)
        config = try ConfigLoader.load(path: dir + "/slipway.yml")
        client = DaemonClient(socket: config.socketPath)
    }

    /// A release whose demo-app.json says how the app behaves.
    func release(_ version: String, ready: Bool = true, readyAfterMs: Int = 0, latencyMs: Int = 0, files: [String: String] = [:],
                 settings: String = "") async throws -> ReleaseInfo {
        let src = dir + "/src-\(version)"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: "\(src)/\(name)", atomically: true, encoding: .utf8) }
        try "{\"ready\": \(ready), \"ready_after_ms\": \(readyAfterMs), \"latency_ms\": \(latencyMs)\(settings.isEmpty ? "" : ", " + settings)}".write(toFile: src + "/demo-app.json", atomically: true, encoding: .utf8)
        return try await client.post("/v1/releases", ReleaseCreateRequest(version: version, from: src, actor: "test"))
    }

    func deploy(_ version: String?, kind: DeploymentKind = .deploy, strategy: DeployStrategy? = nil) async throws -> DeploymentInfo {
        try await client.post("/v1/deployments", DeployRequest(version: version, environment: nil, strategy: strategy, kind: kind, actor: "test"))
    }

    /// Polls the deployment until it ends (deadline-bound) and, like `slipway deploy`, until it let go of the
    /// environment's lock: its last steps (a migration's undo, the watch's start, its audit entry) run after its
    /// state reads finished.
    func outcome(_ d: DeploymentInfo, within: Duration = .seconds(60)) async throws -> DeploymentInfo {
        let ended = try await poll(within: within) {
            let p: DeploymentProgress = try await self.client.get("/v1/deployments/\(d.id)?after=\(Int64.max)")
            return p.deployment.state.isTerminal ? p.deployment : nil
        }
        _ = try await poll(within: .seconds(30)) { () async throws -> Bool? in
            let locks: [LockInfo] = try await self.client.get("/v1/locks")
            return locks.contains { $0.deploymentId == d.id } ? nil : true
        }
        if ended.state != .succeeded {
            // What a failing expectation on the state cannot say: why it ended (a test that wants a failure prints it too).
            let log = (try? String(contentsOfFile: ended.logFile, encoding: .utf8)) ?? ""
            print("deployment #\(ended.id) (\(ended.environment)) ended \(ended.state.rawValue): \(ended.message ?? "-")\n\(log.suffix(3000))")
        }
        return ended
    }

    func status() async throws -> EnvironmentStatus {
        let s: [EnvironmentStatus] = try await client.get("/v1/status")
        return s[0]
    }

    func waitForDaemon() async throws {
        var last = ""
        do {
            _ = try await poll(within: .seconds(30)) { () async -> [String: String]? in
                do { return try await self.client.get("/v1/health", as: [String: String].self) } catch { last = "\(error)"; return nil }
            }
        } catch {
            throw Timeout(description: "the daemon did not answer within 30s; last error: \(last)")
        }
    }

    /// What the router answers on `/` right now.
    func get() async throws -> String {
        try await SlipwayHTTPProbe.get(port: port)
    }

    /// Takes everything down. `down` is refused while a deployment holds the lease (a canary waiting for a promote,
    /// a migration held at a gate): what still runs then (instances, the router) is killed, so no test leaves
    /// processes behind — here with `kill`, or by a caller that stops the daemon first (`withDaemon`): killed while
    /// the daemon ran, the router was started again by a canary still at work, and the daemon's stop waited 15 s
    /// for it (the 18 s the dashboard's canary test took in CI).
    func tearDown(kill: Bool = true) async {
        _ = try? await client.post("/v1/down", DownRequest(environment: nil, all: true, actor: "test"), as: [String: String].self)
        if kill { killLeftovers() }
        // A router that crashed (and was started again) says why in its log: show it where CI keeps output.
        let log = (try? String(contentsOfFile: config.root + "/logs/router.log", encoding: .utf8)) ?? ""
        if log.contains("Program crashed") || log.contains("Fatal error") || log.contains("Simultaneous accesses") {
            print("router.log of \(dir) shows a crash:\n\(log.suffix(20_000))")
        }
    }

    /// Kills (SIGKILL) every process started from this sandbox: its command line names the sandbox (the router's
    /// `--control`) or it works in it (instances run in their release directory).
    func killLeftovers() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return }
        for entry in entries {
            guard let pid = Int32(entry), pid != getpid() else { continue }
            let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let cwd = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd")) ?? ""
            if cmdline.contains(dir + "/") || cwd == dir || cwd.hasPrefix(dir + "/") { kill(pid, SIGKILL) }
        }
    }

    /// Runs the real `slipway` binary against this sandbox's config; its exit status and everything it printed.
    /// `withConfig: false`: from an empty directory with no config file (a CI job's view of a remote daemon).
    func cli(_ args: [String], environment: [String: String] = [:], withConfig: Bool = true) async throws -> (status: Int32, text: String) {
        let out = dir + "/cli-\(UUID().uuidString.prefix(6)).out"
        let elsewhere = dir + "/elsewhere"
        if !withConfig { try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true) }
        let status = try await ProcessSpawner.run(argv: [TestBinaries.slipway] + args + (withConfig ? ["--config", dir + "/slipway.yml"] : []),
                                                  directory: withConfig ? dir : elsewhere,
                                                  environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, logFile: out)
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }

    func removeFiles() { try? FileManager.default.removeItem(atPath: dir) }

    /// Runs an in-process daemon on this sandbox around `body`, then takes everything down.
    func withDaemon(runSchedules: Bool = true, _ body: (Daemon) async throws -> Void) async throws {
        let daemon = try Daemon(config: config, routerExecutable: TestBinaries.slipway, logger: quietLogger(), handleSignals: false, runSchedules: runSchedules,
                                cadence: .brisk)
        let run = Task { try await daemon.run() }
        defer { removeFiles() }
        var failure: (any Error)?
        do {
            try await waitForDaemon()
            try await body(daemon)
        } catch { failure = error }
        await tearDown(kill: false)
        await daemon.shutdown()
        _ = try? await run.value
        killLeftovers()  // what `down` left (refused, or a router the daemon started while it was stopping)
        if let failure { throw failure }
    }
}

import SlipwayHTTP

enum SlipwayHTTPProbe {
    static func get(port: Int, path: String = "/") async throws -> String {
        let r = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: port), path: path, timeout: .seconds(5))
        return "\(r.status) \(r.bodyText)"
    }
}

struct Timeout: Error, CustomStringConvertible {
    var description: String
}

/// Calls `body` until it returns a value or `within` passes.
func poll<T>(within: Duration, every: Duration = .milliseconds(50), _ what: String = #function, line: Int = #line, _ body: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + within
    while ContinuousClock.now < deadline {
        if let v = try await body() { return v }
        try await Task.sleep(for: every)
    }
    throw Timeout(description: "\(what) (line \(line)): condition not met within \(within)")
}

func quietLogger() -> Logger {
    var l = Logger(label: "test")
    l.logLevel = .error
    return l
}

import SlipwayRouter

/// Runs `body`, then closes the proxy's listeners and waits for that, whether `body` threw or not.
func closing<T>(_ proxy: ProxyServer, _ body: () async throws -> T) async throws -> T {
    do {
        let result = try await body()
        await proxy.closeAll()
        return result
    } catch {
        await proxy.closeAll()
        throw error
    }
}

/// A daemon on a sandbox, for tests that stop and start it themselves (a restart in the middle).
struct RunningDaemon {
    let daemon: Daemon
    let run: Task<Void, any Error>

    /// Graceful stop; instances and the router keep running, as with SIGTERM.
    func stop() async {
        await daemon.shutdown()
        _ = try? await run.value
    }
}

extension Sandbox {
    /// Starts a daemon on this sandbox and waits until it answers.
    func startDaemon() async throws -> RunningDaemon {
        let daemon = try Daemon(config: config, routerExecutable: TestBinaries.slipway, logger: quietLogger(), handleSignals: false, cadence: .brisk)
        let running = RunningDaemon(daemon: daemon, run: Task { try await daemon.run() })
        do { try await waitForDaemon() } catch {
            await running.stop()
            throw error
        }
        return running
    }

    /// Runs `body` with a daemon it may stop and start again (`daemon.restart(on:)`, or by hand), then takes
    /// everything down, stops whichever daemon runs then, and removes the sandbox, whether `body` threw or not.
    func withRestartableDaemon(_ body: (inout RunningDaemon) async throws -> Void) async throws {
        defer { removeFiles() }
        var current = try await startDaemon()
        var failure: (any Error)?
        do { try await body(&current) } catch { failure = error }
        await tearDown(kill: false)
        await current.stop()
        killLeftovers()  // what `down` left (refused, or a router the daemon started while it was stopping)
        if let failure { throw failure }
    }
}

extension RunningDaemon {
    /// Stops this daemon and starts a new one on the same sandbox.
    mutating func restart(on s: Sandbox) async throws {
        await stop()
        self = try await s.startDaemon()
    }
}

/// A `migrate.up` that waits until the test opens the gate: a deployment held in `migrating` as long as needed.
struct MigrationGate {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-gate-\(UUID().uuidString.prefix(8))").path

    var yaml: String {
        """
        migrate:
          up: "/bin/sh -c 'while [ ! -f \(path) ]; do sleep 0.05; done; echo migrated >> \(path)'"
          timeout: 60s
        """
    }

    func open() { _ = FileManager.default.createFile(atPath: path, contents: nil) }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
    var migrated: Bool { (try? String(contentsOfFile: path, encoding: .utf8)) == "migrated\n" }

    /// Polls until deployment `d` is waiting at the gate.
    func waitUntilMigrating(_ d: DeploymentInfo, _ s: Sandbox) async throws {
        _ = try await poll(within: .seconds(10)) {
            let p: DeploymentProgress = try await s.client.get("/v1/deployments/\(d.id)?after=0")
            return p.deployment.state == .migrating ? true : nil
        }
    }
}

import GRDB

extension Sandbox {
    /// `backup:` with the environment's `shared/app.db` as the one source and a local store, plus `more`
    /// (indented as keys of `backup:`), for the data tests.
    static func sqliteBackup(_ more: String) -> String {
        "backup:\n  sources:\n    - { name: db, sqlite: shared/app.db }\n  stores:\n    - { local: backups }\n"
            + more.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n")
    }

    /// Creates `shared/<env>/app.db` and runs `sql` in it.
    func seedDatabase(_ sql: String, in environment: String = "production", arguments: StatementArguments = []) async throws -> DatabaseQueue {
        let dir = config.sharedDirectory(environment)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let db = try DatabaseQueue(path: dir + "/app.db")
        try await db.write { try $0.execute(sql: sql, arguments: arguments) }
        return db
    }
}

/// Runs `body`, then cancels the servers' tasks and waits until each has ended (also when `body` throws), so no
/// server outlives its test.
func stopping<T>(_ tasks: [Task<Void, any Error>], _ body: () async throws -> T) async throws -> T {
    let result: Result<T, any Error>
    do { result = .success(try await body()) } catch { result = .failure(error) }
    for task in tasks { task.cancel() }
    for task in tasks { _ = await task.result }
    return try result.get()
}

extension Sandbox {
    /// A daemon in a process of its own (a test that restarts it, or gives it an environment of its own).
    func spawnDaemon(environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> ProcessSpawner.Spawned {
        let child = try ProcessSpawner.spawn(argv: [TestBinaries.slipway, "server", "--config", dir + "/slipway.yml", "--log-level", "warning"],
                                             directory: dir, environment: environment, logFile: dir + "/daemon.log")
        do { try await waitForDaemon() } catch {
            kill(child.pid, SIGKILL)
            throw error
        }
        return child
    }

    /// Runs `body` against a daemon in a process of its own; `restart` stops it as systemd would and starts another.
    /// The daemon is stopped and the sandbox taken down afterwards, also when `body` throws.
    func withSpawnedDaemon(environment: [String: String] = ProcessInfo.processInfo.environment,
                           _ body: (_ restart: () async throws -> Void) async throws -> Void) async throws {
        defer { removeFiles() }
        var daemon = try await spawnDaemon(environment: environment)
        do {
            try await body {
                try await self.stopDaemon(daemon)
                daemon = try await self.spawnDaemon(environment: environment)
            }
        } catch {
            kill(daemon.pid, SIGKILL)
            await tearDown()
            throw error
        }
        try await stopDaemon(daemon)
        await tearDown()
    }

    /// `withSpawnedDaemon` whose `crash` kills the daemon with SIGKILL (nothing of it runs on: no shutdown, no
    /// cleanup) and starts a new one.
    func withCrashableDaemon(_ body: (_ crash: () async throws -> Void) async throws -> Void) async throws {
        defer { removeFiles() }
        var daemon = try await spawnDaemon(environment: ProcessInfo.processInfo.environment)
        do {
            try await body {
                kill(daemon.pid, SIGKILL)
                _ = try await poll(within: .seconds(10)) { ProcessInspector.isAlive(pid: daemon.pid, startTime: daemon.startTime) ? nil : true }
                daemon = try await self.spawnDaemon(environment: ProcessInfo.processInfo.environment)
            }
        } catch {
            await tearDown(kill: false)  // `down` while the daemon runs: it stops containers through their runtime
            kill(daemon.pid, SIGKILL)
            killLeftovers()
            throw error
        }
        await tearDown(kill: false)
        try await stopDaemon(daemon)
        killLeftovers()
    }

    /// Stops a spawned daemon as systemd would (SIGTERM) and waits for it to exit.
    func stopDaemon(_ daemon: ProcessSpawner.Spawned) async throws {
        kill(daemon.pid, SIGTERM)
        _ = try await poll(within: .seconds(30)) { ProcessInspector.isAlive(pid: daemon.pid, startTime: daemon.startTime) ? nil : true }
    }
}
