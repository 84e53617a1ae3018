import ArgumentParser
import Foundation
import Logging
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import SlipwayServer

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The whole story in a temp dir: releases, a blue-green deploy under load (a worker moving with every release), a refused release, a rollback, a bad canary reverted by analysis, a good one promoted, a signed git push deployed, the audit log verified, the dashboard.")
    @Flag(help: "Keep the temp directory (for a look at state.db, logs/, releases/)") var keep = false

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-demo-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let runner = try DemoRunner(directory: dir)
        var failure: (any Error)?
        do { try await runner.run() } catch { failure = error }
        await runner.cleanUp()
        if keep { print("kept \(dir)") } else { try? FileManager.default.removeItem(atPath: dir) }
        if let failure { throw failure }
    }
}

/// Drives a real daemon (in this process) through its API, as a user's CLI would.
struct DemoRunner {
    let directory: String
    let config: SlipwayConfig
    let daemon: Daemon
    let client: DaemonClient
    let port: Int
    /// The daemon's TCP listener, where the demo's webhook arrives.
    let apiPort: Int
    let hookSecret = Hex.random(bytes: 16)

    init(directory: String) throws {
        self.directory = directory
        port = try PortAllocator.freePort()
        apiPort = try PortAllocator.freePort()
        let yaml = """
            app: demo
            processes:
              web: { command: "\(SelfExecutable.path) demo-app --port $PORT", instances: 2, stop_timeout: 5s }
              worker: { command: "\(SelfExecutable.path) demo-app --worker", instances: 1, stop_timeout: 5s }
            health:
              path: /health/ready
              interval: 200ms
              timeout: 1s
              healthy_threshold: 2
              deadline: 4s
            router:
              listen: 127.0.0.1:\(port)
              drain_timeout: 5s
            strategy: blue-green
            analysis:
              interval: 500ms
              min_requests: 100
              rules: ["error_rate > baseline + 1%"]
            canary:
              instances: 1
              steps: [{ weight: 10 }, { weight: 50 }]
            server: { listen: "127.0.0.1:\(apiPort)" }
            release: { git: { repo: \(directory)/repo } }
            webhooks:
              - { provider: github, secret: DEMO_WEBHOOK_SECRET, on: { push: main }, deploy_to: production }
            """
        try FileManager.default.createDirectory(atPath: directory + "/repo", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/.slipway", withIntermediateDirectories: true)
        try "DEMO_WEBHOOK_SECRET=\(hookSecret)\n".write(toFile: directory + "/.slipway/secrets.env", atomically: true, encoding: .utf8)
        try yaml.write(toFile: directory + "/slipway.yml", atomically: true, encoding: .utf8)
        config = try ConfigLoader.load(path: directory + "/slipway.yml")
        var logger = Logger(label: "slipway")
        logger.logLevel = .warning
        daemon = try Daemon(config: config, routerExecutable: SelfExecutable.path, logger: logger, handleSignals: false)
        client = DaemonClient(socket: config.socketPath)
    }

    func say(_ s: String) { print(s) }

    func run() async throws {
        say("▶ slipway demo in \(directory)")
        let d = daemon
        Task { try? await d.run() }
        try await waitForDaemon()
        say("  daemon up (embedded SQLite at \(config.databasePath)); router on 127.0.0.1:\(port)")

        for (v, ready, failRate) in [("v1", true, 0.0), ("v2", true, 0.0), ("v3", false, 0.0), ("v4", true, 0.3)] {
            let src = directory + "/src-\(v)"
            try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
            try "{\"ready\": \(ready), \"fail_rate\": \(failRate), \"latency_ms\": 2, \"note\": \"demo release \(v)\"}\n".write(toFile: src + "/demo-app.json", atomically: true, encoding: .utf8)
            let r: ReleaseInfo = try await client.post("/v1/releases", ReleaseCreateRequest(version: v, from: src, actor: "demo"))
            say("  release \(v) created (\(r.digest.prefix(19))…)\(ready ? "" : " — never becomes ready")\(failRate > 0 ? " — fails \(Int(failRate * 100))% of its requests" : "")")
        }

        let t1 = try await deploy("v1", kind: .deploy, strategy: nil)
        say("1. deployed v1 in \(t1.time): \(t1.outcome)")

        let load = LoadLoop(port: port)
        load.start(concurrency: 4, maxDuration: .seconds(120))
        try await Task.sleep(for: .milliseconds(500))
        let t2 = try await deploy("v2", kind: .deploy, strategy: nil)
        say("2. blue-green v1 → v2 under load in \(t2.time): \(t2.outcome); requests so far \(load.summary.requests), failed \(load.summary.failures)")

        let t3 = try await deploy("v3", kind: .deploy, strategy: nil)
        say("3. v3 never becomes ready: \(t3.outcome) after \(t3.time); v2 kept serving; failed requests \(load.summary.failures)")

        let t4 = try await deploy("v1", kind: .rollback, strategy: nil)
        say("4. rollback to v1 (warm instances) in \(t4.time): \(t4.outcome)")
        let cleanFailures = load.summary.failures

        let before5 = load.summary
        let t5 = try await deploy("v4", kind: .deploy, strategy: .canary)
        let after5 = load.summary
        say("5. canary v4 at 10% (it fails 30% of its requests): \(t5.outcome) after \(t5.time); "
            + "\(after5.failures - before5.failures) of \(after5.requests - before5.requests) requests failed meanwhile")

        let before6 = load.summary
        let t6 = try await deploy("v2", kind: .deploy, strategy: .canary)
        let status: CanaryStatus = try await client.get("/v1/canary")
        let steps = status.decisions.compactMap { e -> String? in
            guard case .canary(let c) = e.payload, e.type != "canary.held" else { return nil }
            return "\(e.type.dropFirst("canary.".count)) \(c.weight)%"
        }
        say("6. canary v2 (healthy): \(steps.joined(separator: " → ")) → 100%, \(t6.outcome) in \(t6.time); failed requests \(load.summary.failures - before6.failures)")
        let before7 = load.summary
        let t7 = try await webhookStep()
        let pushFailures = load.summary.failures - before7.failures
        try await auditStep()
        try await dashboardStep(live: t7.version, revertedCanary: t5.id)
        try await Task.sleep(for: .milliseconds(300))
        let s = await load.stop()

        let served = s.byRelease.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        say("""
            ── summary ──────────────────────────────────────────────
              requests through the router: \(s.requests), failed: \(s.failures)\(s.lastFailure.map { " (last: \($0.trimmingCharacters(in: .whitespacesAndNewlines)))" } ?? "")
              answered by: \(served)
              deploy v1 \(t1.time) · blue-green to v2 \(t2.time) · v3 refused after \(t3.time) · rollback to v1 \(t4.time)
              canary v4 reverted after \(t5.time) · canary v2 promoted after \(t6.time) · git push to \(t7.version) in \(t7.time)
            """)
        let history: [DeploymentInfo] = try await client.get("/v1/deployments")
        for h in history.reversed() {
            say("  #\(h.id) \(h.kind.rawValue) \(h.version): \(h.state.rawValue)")
        }
        if let first = history.last {
            say("  recorded as \(first.actor) (the OS user the kernel reported)\(first.onBehalfOf.map { ", on behalf of \($0)" } ?? "")")
        }
        let page: EventPage = try await client.get("/v1/events?since=0&limit=1000")
        var byType: [String: Int] = [:]
        for e in page.events { byType[e.type, default: 0] += 1 }
        let top: [String] = byType.sorted { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }.prefix(4).map { "\($0.key) \($0.value)" }
        say("  event log: \(page.events.count) events — \(top.joined(separator: ", ")) (follow them live: slipway events --follow)")
        _ = try workerStep()
        let canaryFailures = after5.failures - before5.failures
        if cleanFailures > 0 || pushFailures > 0 || s.failures != cleanFailures + canaryFailures {
            throw SlipwayError(.failed, "the demo saw \(s.failures - canaryFailures) failed request(s) outside the bad canary")
        }
        guard t5.outcome.hasPrefix("rolled_back"), t6.outcome == "succeeded" else {
            throw SlipwayError(.failed, "the canaries did not end as they should: v4 \(t5.outcome), v2 \(t6.outcome)")
        }
        say("✓ zero failed requests across three switches, a refused release, a rollback, a good canary and a git push;"
            + " the bad canary cost \(canaryFailures) (\(String(format: "%.2f", 100 * Double(canaryFailures) / Double(max(1, after5.requests - before5.requests))))% of the requests while it ran)")
    }

    /// The worker moved with every release that came to serve; each stopped worker finished the job in hand.
    func workerStep() throws -> Int {
        let lines = ((try? String(contentsOfFile: config.sharedDirectory("production") + "/jobs.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        let started = lines.filter { $0.hasPrefix("start ") }
        // A job whose worker logged its exit without logging the job done was cut short.
        let cut = started.filter { job in
            let rest = job.dropFirst("start ".count)
            let worker = rest.split(separator: " ").prefix(2).joined(separator: " ")
            return !lines.contains("done " + rest) && lines.contains("exit " + worker)
        }
        let releases = started.compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) }.reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
        say("  worker: \(started.count) jobs, run by \(releases.joined(separator: " → ")) (it moved with each release that came to serve; refused and reverted ones never touched it), \(cut.count) cut short")
        guard cut.isEmpty, !started.isEmpty else { throw SlipwayError(.failed, "the worker's jobs: \(cut.count) cut short of \(started.count)") }
        return started.count
    }

    func deploy(_ version: String, kind: DeploymentKind, strategy: DeployStrategy?) async throws -> (time: String, outcome: String, id: Int64) {
        let start = ContinuousClock.now
        var d: DeploymentInfo = try await client.post("/v1/deployments", DeployRequest(version: version, environment: nil, strategy: strategy, kind: kind, actor: "demo"))
        while !d.state.isTerminal {
            try await Task.sleep(for: .milliseconds(50))
            d = try await client.get("/v1/deployments/\(d.id)?after=\(Int64.max)", as: DeploymentProgress.self).deployment
        }
        let took = ContinuousClock.now - start
        return (String(format: "%.2fs", took.seconds), d.state == .succeeded ? "succeeded" : "\(d.state.rawValue) — \(d.message?.split(separator: "\n").first ?? "")", d.id)
    }

    func waitForDaemon() async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if (try? await client.get("/v1/health", as: [String: String].self)) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw SlipwayError(.failed, "the demo daemon did not start within 20s")
    }

    func cleanUp() async {
        _ = try? await client.post("/v1/down", DownRequest(environment: nil, all: true, actor: "demo"), as: [String: String].self)
        await daemon.shutdown()
    }
}
