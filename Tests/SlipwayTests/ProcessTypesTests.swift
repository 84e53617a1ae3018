import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Testing

/// `processes:`: a web type behind the router, a worker and a singleton clock beside it, moved together by
/// deploys and rollbacks, each stopped with its own signal and given its stop_timeout to finish its job.
@Suite(.serialized)
struct ProcessTypesTests {
    /// A worker: one job at a time (start, 0.3 s of work, done) into jobs.log; SIGTERM ends it after the job in hand.
    static let worker = """
        import os, signal, sys, time
        stop = False
        def asked(*_):
            global stop
            stop = True
        signal.signal(signal.SIGTERM, asked)
        name, path = os.environ["SLIPWAY_INSTANCE"], os.environ["SLIPWAY_SHARED"] + "/jobs.log"
        def log(line):
            with open(path, "a") as f: f.write(line + "\\n")
        n = 0
        while not stop:
            n += 1
            log(f"start {name} {n}")
            print(f"job {n}", flush=True)
            end = time.monotonic() + 0.3
            while time.monotonic() < end: time.sleep(end - time.monotonic())
            log(f"done {name} {n}")
        log(f"exit {name}")
        """

    /// A clock that must never run twice: it holds clock.lock until it exits (half a second after SIGINT), and writes
    /// "conflict" if another holds it.
    static let clock = """
        import fcntl, os, signal, sys, time
        release, shared = os.environ["SLIPWAY_RELEASE"], os.environ["SLIPWAY_SHARED"]
        def log(line):
            with open(shared + "/clock.log", "a") as f: f.write(line + "\\n")
        lock = open(shared + "/clock.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            log(f"conflict {release}")
            sys.exit(1)
        log(f"start {release}")
        stopped = []
        signal.signal(signal.SIGINT, lambda *_: stopped.append(1))
        while not stopped: time.sleep(0.05)
        time.sleep(0.5)  # its last tick: the lock is held until it exits
        log(f"stop {release}")
        """

    static func sandbox(extra: String = "") throws -> Sandbox {
        try Sandbox(extra: extra, processes: """
            processes:
              web: { command: "\(TestBinaries.demoApp) --port $PORT", instances: 2, stop_timeout: 3s }
              worker: { command: "python3 worker.py", instances: 2, stop_timeout: 5s }
              clock: { command: "python3 clock.py", singleton: true, stop_signal: SIGINT, stop_timeout: 5s }
            """)
    }

    @Test(.timeLimit(.minutes(3)))
    func aDeployAndARollbackMoveEveryTypeTogether() async throws {
        let s = try Self.sandbox()
        try await s.withDaemon { _ in
            for v in ["v1", "v2"] { _ = try await s.release(v, files: ["worker.py": Self.worker, "clock.py": Self.clock]) }
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            // The deploy's end means its types run the release: no waiting.
            var types = try #require(try await s.status().processes)
            #expect(types.map(\.name) == ["clock", "worker"])
            #expect(Self.running(types, "worker") == ["v1", "v1"] && Self.running(types, "clock") == ["v1"], "\(types)")
            try await Self.clockLogs(s, "start v1\n")
            for slot in 0..<2 { try await Self.working(s, "production-v1-worker-\(slot)") }

            let load = LoadLoop(port: s.port)
            load.start(concurrency: 4, maxDuration: .seconds(60))
            _ = try await poll(within: .seconds(5)) { load.summary.requests > 50 ? true : nil }
            let d2 = try await s.outcome(try await s.deploy("v2"))
            #expect(d2.state == .succeeded)
            types = try #require(try await s.status().processes)
            #expect(Self.running(types, "worker") == ["v2", "v2"] && Self.running(types, "clock") == ["v2"], "\(types)")
            try await Self.clockLogs(s, "start v1\nstop v1\nstart v2\n")
            for slot in 0..<2 { try await Self.working(s, "production-v2-worker-\(slot)") }  // its SIGTERM handler is in place before the rollback
            let progress: DeploymentProgress = try await s.client.get("/v1/deployments/\(d2.id)?after=0")
            let details = progress.events.map(\.detail)
            #expect(details.contains { $0.hasPrefix("started 2 worker process(es) of v2") } && details.contains { $0.hasPrefix("stopping 2 worker process(es): v1-0, v1-1 (SIGTERM, up to 5s)") },
                    "\(details)")

            // Rolled back: every type on v1 again.
            let back = try await s.outcome(try await s.deploy(nil, kind: .rollback))
            #expect(back.state == .succeeded && back.version == "v1")
            let summary = await load.stop()
            #expect(summary.requests > 100 && summary.failures == 0, "\(summary)")
            types = try #require(try await s.status().processes)
            #expect(Self.running(types, "worker") == ["v1", "v1"] && Self.running(types, "clock") == ["v1"], "\(types)")

            // Every job a stopped worker began, it finished, and then it exited (not killed).
            let jobs = try String(contentsOfFile: s.config.sharedDirectory("production") + "/jobs.log", encoding: .utf8).split(separator: "\n").map(String.init)
            for line in jobs where line.hasPrefix("start ") {
                #expect(jobs.contains("done " + line.dropFirst(6)), "\(line) was not finished")
            }
            for name in ["production-v1-worker-0", "production-v1-worker-1", "production-v2-worker-0", "production-v2-worker-1"] {
                #expect(jobs.contains("exit \(name)"), "\(name) did not finish and exit")
            }
            // The clock never ran twice: each stopped (SIGINT) before the next started, and none found the lock held.
            try await Self.clockLogs(s, "start v1\nstop v1\nstart v2\nstop v2\nstart v1\n")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func aTypeIsScaledRestartedAfterACrashLoggedAndStoppedByDown() async throws {
        let api = try PortAllocator.freePort()
        let s = try Self.sandbox(extra: "server: { listen: \"127.0.0.1:\(api)\" }")
        try await s.withDaemon { _ in
            _ = try await s.release("v1", files: ["worker.py": Self.worker, "clock.py": Self.clock])
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let scaled = try await s.cli(["scale", "worker=3"])
            #expect(scaled.status == 0 && scaled.text.contains("production: 3 worker process(es) of v1 running (wanted 3)"), "\(scaled.text)")
            let refused = try await s.cli(["scale", "mailer=2"])
            #expect(refused.status == 2 && refused.text.contains("environment 'production' has no process type 'mailer' (it has web, clock, worker)"), "\(refused.text)")
            let audit = try await s.cli(["audit"])
            #expect(audit.text.contains("production/worker"), "\(audit.text)")

            // A worker killed is started again in its slot.
            let victim = try #require(try await s.status().processes?.first { $0.name == "worker" }?.processes.first)
            kill(try #require(victim.pid), SIGKILL)
            let again = try await poll(within: .seconds(10)) { () async throws -> ProcessTypeInfo.Process? in
                try await s.status().processes?.first { $0.name == "worker" }?.processes.first { $0.slot == victim.slot && $0.pid != victim.pid && $0.state == .running }
            }
            #expect(again.restarts == 1)
            let metrics = try await s.client.text("/metrics")
            #expect(metrics.contains(#"slipway_processes{environment="production",type="worker",release="v1",state="running"} 3"#)
                    && metrics.contains(#"slipway_process_restarts{environment="production",type="worker",release="v1",slot="\#(victim.slot)"} 1"#), "\(metrics)")
            let text = try await s.cli(["status"])
            #expect(text.text.contains("process type worker: 3/3 running (v1)") && text.text.contains("process type clock: 1/1 running (v1), singleton"), "\(text.text)")

            // Each type's output, tagged with its type.
            let logs = try await poll(within: .seconds(10)) { () async throws -> String? in
                let out = try await s.cli(["logs", "--app", "--type", "worker", "--lines", "5"]).text
                return out.contains("[v1 worker#0] job") ? out : nil
            }
            #expect(!logs.contains("hello") && !logs.contains("demo-app v1 listening"), "\(logs)")

            // The dashboard's environment page lists every process.
            let login = try await s.cli(["dashboard"])
            let url = try #require(login.text.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("http://") }.map(String.init), "\(login.text)")
            let session = try await DashboardBrowserTests.session(url, api: api)
            let page = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/ui/env/production", headers: [("Cookie", session.cookie)]).bodyText
            let table = try #require(page.range(of: "<table id=\"process-types\">").map { String(page[$0.lowerBound...].prefix(2000)) }, "\(page.prefix(2000))")
            #expect(table.contains("<td>clock (singleton)</td><td>v1</td><td>0</td><td>running</td>") && table.contains("<td>worker</td><td>v1</td><td>2</td><td>running</td>"), "\(table)")

            // down stops every type, nothing is left running.
            let pids = try #require(try await s.status().processes).flatMap(\.processes).compactMap(\.pid)
            #expect(try await s.cli(["down"]).status == 0)
            #expect(try await s.status().processes?.allSatisfy { $0.processes.isEmpty && $0.wanted == 0 } == true)
            for pid in pids { #expect(kill(pid, 0) != 0, "pid \(pid) still runs") }
        }
    }

    /// A routed type: `/api` goes to the api processes (health-gated, switched after web, drained), `/` to web; a
    /// deploy under load on both paths fails nothing, and a rollback moves the api back.
    @Test(.timeLimit(.minutes(2)))
    func pathRoutingSendsTheAPIPathToTheAPITypeThroughDeploysAndRollbacks() async throws {
        let s = try Sandbox(processes: """
            processes:
              web: { command: "\(TestBinaries.demoApp) --port $PORT", instances: 2, stop_timeout: 3s }
              api: { command: "\(TestBinaries.demoApp) --port $PORT", instances: 2, stop_timeout: 3s, route: { path: /api, strip_prefix: true } }
            """)
        try await s.withDaemon { _ in
            for v in ["v1", "v2"] { _ = try await s.release(v) }
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let client = MiniHTTPClient()
            func body(_ path: String) async throws -> String { try await client.request("GET", .tcp(host: "127.0.0.1", port: s.port), path: path).bodyText }
            #expect(try await body("/api").contains("demo-app v1 (production-v1-api-"), "the api type answers /api")
            let root = try await body("/")
            #expect(root.contains("demo-app v1 (production-v1-") && !root.contains("-api-"), "web answers /: \(root)")
            let api = try #require(try await s.status().processes?.first { $0.name == "api" })
            #expect(api.route == "/api" && api.processes.allSatisfy { $0.serving == true && ($0.port ?? 0) > 0 }, "\(api)")

            let onAPI = LoadLoop(port: s.port, path: "/api"), onWeb = LoadLoop(port: s.port)
            onAPI.start(concurrency: 2, maxDuration: .seconds(60))
            onWeb.start(concurrency: 2, maxDuration: .seconds(60))
            _ = try await poll(within: .seconds(5)) { onAPI.summary.requests > 30 && onWeb.summary.requests > 30 ? true : nil }
            let d2 = try await s.outcome(try await s.deploy("v2"))
            #expect(d2.state == .succeeded)
            #expect(try await body("/api").contains("demo-app v2 (production-v2-api-"))
            let back = try await s.outcome(try await s.deploy(nil, kind: .rollback))
            #expect(back.state == .succeeded)
            let api1 = await onAPI.stop(), web1 = await onWeb.stop()
            #expect(api1.failures == 0 && (api1.byRelease["v2"] ?? 0) > 0 && web1.failures == 0, "api \(api1), web \(web1)")
            #expect(try await body("/api").contains("demo-app v1 (production-v1-api-"), "the rollback moved the api back")
            let progress: DeploymentProgress = try await s.client.get("/v1/deployments/\(d2.id)?after=0")
            #expect(progress.events.contains { $0.detail == "api of v2 serves /api" }, "\(progress.events.map(\.detail))")
        }
    }

    /// A daemon that died after starting a worker and before recording it: the next move finds the process by its
    /// SLIPWAY_INSTANCE and adopts it instead of starting a second one in its slot.
    @Test(.timeLimit(.minutes(1)))
    func aWorkerStartedButNeverRecordedIsAdoptedNotDoubled() async throws {
        let s = try Self.sandbox()
        try await s.withDaemon { _ in
            _ = try await s.release("v1", files: ["worker.py": Self.worker, "clock.py": Self.clock])
            let shared = s.config.sharedDirectory("production")
            try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
            var env = ProcessInfo.processInfo.environment
            env["SLIPWAY_INSTANCE"] = "production-v1-worker-0"
            env["SLIPWAY_SHARED"] = shared
            let orphan = try ProcessSpawner.spawn(argv: ["python3", "worker.py"], directory: s.config.releasesDirectory + "/v1", environment: env,
                                                  logFile: s.dir + "/orphan.log")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let worker = try #require(try await s.status().processes?.first { $0.name == "worker" })
            #expect(worker.processes.map(\.slot) == [0, 1] && worker.processes.first?.pid == orphan.pid, "\(worker)")
        }
    }

    /// An in-place restore stops the workers first (none writes while the data is replaced) and they start again after.
    @Test(.timeLimit(.minutes(2)))
    func anInPlaceRestoreHoldsTheWorkersAndTheyComeBackAfter() async throws {
        let s = try Sandbox(extra: Sandbox.sqliteBackup(""), processes: """
            processes:
              web: { command: "\(TestBinaries.demoApp) --port $PORT", instances: 1, stop_timeout: 3s }
              worker: { command: "python3 worker.py", instances: 1, stop_timeout: 5s }
            """)
        _ = try await s.seedDatabase("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
        try await s.withDaemon { _ in
            _ = try await s.release("v1", files: ["worker.py": Self.worker, "clock.py": Self.clock])
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            try await Self.working(s, "production-v1-worker-0")
            let before = try #require(try await s.status().processes?.first?.processes.first)
            let created = try await s.cli(["backup", "create", "--json"])
            #expect(created.status == 0, "\(created.text)")
            let id = try SlipwayJSON.decoder().decode(BackupInfo.self, from: Data(created.text.utf8)).id
            let restored = try await s.cli(["backup", "restore", id, "--yes"])
            #expect(restored.status == 0, "\(restored.text)")
            let after = try await poll(within: .seconds(15)) { () async throws -> ProcessTypeInfo.Process? in
                try await s.status().processes?.first?.processes.first { $0.state == .running && $0.pid != before.pid }
            }
            #expect(after.release == "v1" && after.slot == 0)
            let jobs = try String(contentsOfFile: s.config.sharedDirectory("production") + "/jobs.log", encoding: .utf8)
            #expect(jobs.contains("exit production-v1-worker-0"), "the worker was stopped (and finished its job) for the restore: \(jobs)")
            try await Self.working(s, "production-v1-worker-0", after: "exit production-v1-worker-0")
        }
    }

    /// A type whose process keeps exiting is started again with a back-off, and three exits in a row fire
    /// `process-crash-loop` (P1) naming it and its log; the web type serves meanwhile.
    @Test(.timeLimit(.minutes(1)))
    func aTypeThatKeepsExitingFiresTheCrashLoopAlert() async throws {
        let s = try Sandbox(processes: """
            processes:
              web: { command: "\(TestBinaries.demoApp) --port $PORT", instances: 1 }
              mailer: { command: "/bin/sh -c 'echo no smtp; exit 3'" }
            """)
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let firing = try await poll(within: .seconds(30)) { () async throws -> AlertInfo? in
                let all: [AlertInfo] = try await s.client.get("/v1/alerts")
                return all.first { $0.name == "process-crash-loop" && $0.state == .firing }
            }
            #expect(firing.severity == .p1 && firing.summary.contains("production-v1-mailer-0 exited 3 times in a row")
                    && firing.summary.contains("production-v1-mailer-0.log"), "\(firing.summary)")
            #expect(try await s.get().hasPrefix("200"))
        }
    }

    /// Waits until worker `name` logged a job's start (after `after`, when given): Python has started it and its
    /// SIGTERM handler is in place, so a stop from here on lets it finish the job.
    static func working(_ s: Sandbox, _ name: String, after: String? = nil) async throws {
        let path = s.config.sharedDirectory("production") + "/jobs.log"
        _ = try await poll(within: .seconds(15)) { () -> Bool? in
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            let rest = after.flatMap { text.range(of: $0) }.map { String(text[$0.upperBound...]) } ?? (after == nil ? text : "")
            return rest.contains("start \(name) ") ? true : nil
        }
    }

    /// Waits until clock.log reads `expected` (a clock logs its start once Python has started it).
    static func clockLogs(_ s: Sandbox, _ expected: String) async throws {
        let path = s.config.sharedDirectory("production") + "/clock.log"
        var last = ""
        do {
            _ = try await poll(within: .seconds(10)) { () -> Bool? in
                last = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                return last == expected ? true : nil
            }
        } catch {
            Issue.record("clock.log reads \(last.debugDescription), not \(expected.debugDescription)")
        }
    }

    static func running(_ types: [ProcessTypeInfo], _ name: String) -> [String] {
        types.first { $0.name == name }?.processes.filter { $0.state == .running }.map(\.release) ?? []
    }
}
