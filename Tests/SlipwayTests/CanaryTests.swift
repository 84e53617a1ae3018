import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import SlipwayServer
@testable import SlipwayEngine
import Testing

/// Canaries with real demo-app processes behind the router, under load.
@Suite(.serialized)
struct CanaryTests {
    static func sandbox(steps: String, maxStep: String = "30s", rules: String = "\"error_rate > baseline + 5%\"", sticky: String = "", extra: String = "") throws -> Sandbox {
        try Sandbox(strategy: "canary", extra: """
            watch: 0
            analysis:
              interval: 250ms
              min_requests: 40
              rules: [\(rules)]
            canary:
              instances: 1
              steps: \(steps)
              max_step_duration: \(maxStep)
              \(sticky)
            \(extra)
            """)
    }

    static func canary(_ s: Sandbox) async throws -> CanaryStatus { try await s.client.get("/v1/canary") }

    /// Releases v1 (healthy) and v2 (`settings` for its demo-app.json), and v1 serving.
    static func v1Serving(_ s: Sandbox, v2 settings: String = "") async throws {
        _ = try await s.release("v1")
        _ = try await s.release("v2", settings: settings)
        #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
    }

    /// A healthy canary walks every step (each decided on evidence), waits at the manual one, and is promoted.
    @Test(.timeLimit(.minutes(2)))
    func aHealthyCanaryWalksEveryStepAndIsPromoted() async throws {
        let s = try Self.sandbox(steps: "[{ weight: 25 }, { weight: 50 }, { pause: manual }]", sticky: "sticky: { cookie: slipway-canary }")
        try await s.withDaemon { _ in
            try await Self.v1Serving(s)
            let load = LoadLoop(port: s.port)
            load.start(concurrency: 4, maxDuration: .seconds(60))
            let d = try await s.deploy("v2")
            let waiting = try await poll(within: .seconds(30)) { () async throws -> CanaryStatus? in
                let c = try await Self.canary(s)
                // The manual step's `canary.held` event is recorded a moment after the status shows it waiting.
                return c.canary?.step == 2 && c.canary?.last?.decision == .wait && c.decisions.last?.type == "canary.held" ? c : nil
            }
            #expect(waiting.canary?.weight == 50 && waiting.canary?.stable == "v1")
            // Sticky: a browser keeps the release it was given for as long as the canary runs.
            for _ in 0..<4 {
                let first = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: s.port), path: "/", timeout: .seconds(5))
                let cookie = try #require(first.header("set-cookie")).prefix { $0 != ";" }
                let release = first.bodyText.contains("demo-app v2") ? "v2" : "v1"
                #expect(cookie == "slipway-canary=\(release)")
                for _ in 0..<10 {
                    let again = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: s.port), path: "/", headers: [("Cookie", String(cookie))], timeout: .seconds(5))
                    #expect(again.bodyText.contains("demo-app \(release)"), "a client with \(cookie) got \(again.bodyText)")
                }
            }
            #expect(try await s.status().canary?.release == "v2", "status shows the canary")
            // A step may be held for traffic (under load, evidence comes slowly) before it moves on; the manual step is held last.
            let types = waiting.decisions.map(\.type)
            #expect(types.filter { $0 != "canary.held" }.starts(with: ["canary.started", "canary.step", "canary.step"]), "\(types)")
            #expect(types.last == "canary.held", "the manual step waits: \(types)")
            // Every step was passed on evidence: the sequential test's verdict is in the event that moved it.
            for e in waiting.decisions where e.type == "canary.step" {
                guard case .canary(let p) = e.payload, let a = p.analysis else { Issue.record("no evidence in \(e)"); continue }
                #expect(a.decision == .advance && a.canary.requests >= 40, "\(a)")
                // The figures the test reached, not a setting: at its floor, so P(canary worse) is low.
                let v = try #require(a.verdicts.first)
                #expect(v.verdict == .pass && v.llr == ErrorRateTest.lower && v.llrPassAt == ErrorRateTest.lower && v.llrFailAt == ErrorRateTest.upper
                        && (v.confidence ?? 1) < 0.1, "\(a.verdicts)")
            }
            let promoted: CanaryStatus = try await s.client.post("/v1/canary", CanaryRequest(environment: nil, action: .promote, actor: "test"))
            #expect(promoted.canary?.command?.action == .promote)
            let ended = try await s.outcome(d)
            #expect(ended.state == .succeeded, "\(ended.message ?? "")")
            let status = try await s.status()
            #expect(status.currentRelease == "v2" && status.canary == nil)
            #expect(status.instances.filter { $0.release == "v2" && $0.state == .running }.count == 2, "promotion starts the other instance")
            let summary = await load.stop()
            #expect(summary.failures == 0, "\(summary)")
            #expect((summary.byRelease["v2"] ?? 0) > 0 && (summary.byRelease["v1"] ?? 0) > 0)
        }
    }

    /// A canary failing half its requests is reverted with the reason, and remembered as bad.
    @Test(.timeLimit(.minutes(2)))
    func aFailingCanaryIsRevertedWithTheReason() async throws {
        let s = try Self.sandbox(steps: "[{ weight: 25, pause: 10m }]")
        try await s.withDaemon { _ in
            try await Self.v1Serving(s, v2: "\"fail_rate\": 0.5")
            let load = LoadLoop(port: s.port)
            load.start(concurrency: 4, maxDuration: .seconds(60))
            let ended = try await s.outcome(try await s.deploy("v2"), within: .seconds(30))
            _ = await load.stop()
            #expect(ended.state == .rolledBack)
            let reason = ended.message ?? ""
            #expect(reason.contains("canary aborted: a burst of errors") || reason.contains("error_rate > baseline + 5%"), "\(reason)")
            let status = try await s.status()
            #expect(status.currentRelease == "v1" && status.canary == nil && !status.instances.contains { $0.release == "v2" })
            let c = try await Self.canary(s)
            #expect(c.decisions.last?.type == "canary.aborted")
            do {
                _ = try await s.deploy("v2")
                Issue.record("a canary failed by analysis was deployed again without --force")
            } catch {
                #expect((error as? SlipwayError)?.exitCode == 3, "\(error)")
            }
        }
    }

    /// Resource rules judge the canary's processes from /proc: over `memory_limit`, it is reverted.
    @Test(.timeLimit(.minutes(2)))
    func aCanaryOverItsMemoryLimitIsReverted() async throws {
        let s = try Self.sandbox(steps: "[{ weight: 25, pause: manual }]", rules: "\"memory > 90%\", \"cpu > 400%\", \"health_failures > 3 in 1m\"")
        try await s.withDaemon { _ in
            try await Self.v1Serving(s)
            // The limit applies from the next deployment on (each runs on the configuration it started with).
            let yaml = try String(contentsOfFile: s.dir + "/slipway.yml", encoding: .utf8)
            try yaml.replacingOccurrences(of: "  stop_timeout: 3s", with: "  stop_timeout: 3s\n  memory_limit: 2MiB")
                .write(toFile: s.dir + "/slipway.yml", atomically: true, encoding: .utf8)
            let ended = try await s.outcome(try await s.deploy("v2"), within: .seconds(30))
            #expect(ended.state == .rolledBack)
            #expect(ended.message?.contains("canary aborted: memory > 90%: ") == true && ended.message?.contains("against 90.0%") == true,
                    "\(ended.message ?? "")")
            let c = try await Self.canary(s)
            guard case .canary(let p)? = c.decisions.last?.payload, let verdicts = p.analysis?.verdicts else { Issue.record("no evidence"); return }
            // CPU needs two readings (it holds on the first); health failures are counted from the probes.
            #expect(verdicts.map(\.verdict) == [.fail, .hold, .pass] || verdicts.map(\.verdict) == [.fail, .pass, .pass], "\(verdicts)")
            #expect(verdicts[0].observed.map { $0 > 1 } == true, "RSS above the 2 MiB limit: \(verdicts[0])")
        }
    }

    /// An external signal: a real Prometheus answering a query above `fail_if` reverts the canary.
    @Test(.timeLimit(.minutes(2)), .enabled(if: MetricsTests.canRun, "needs Debian's prometheus (scripts/test.sh installs it)"))
    func aPrometheusProviderRevertsTheCanary() async throws {
        let binary = try #require(MetricsTests.prometheus, "prometheus is not installed (apt-get install prometheus)")
        let web = try PortAllocator.freePort()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-prom-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "global:\n  scrape_interval: 1m\n".write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
        let prom = try ProcessSpawner.spawn(argv: [binary, "--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                                                   "--web.listen-address=127.0.0.1:\(web)"],
                                            directory: dir, environment: ProcessInfo.processInfo.environment, logFile: dir + "/prometheus.log")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            _ = try await poll(within: .seconds(60), every: .milliseconds(200)) { (try? await SlipwayHTTPProbe.get(port: web, path: "/-/ready"))?.hasPrefix("200") == true ? true : nil }
            let s = try Sandbox(strategy: "canary", extra: """
                watch: 0
                analysis:
                  interval: 250ms
                  min_requests: 40
                  providers:
                    - { prometheus: { url: "http://127.0.0.1:\(web)", query: "vector(42)" }, fail_if: "value > 10" }
                canary: { steps: [{ weight: 25, pause: manual }] }
                """)
            try await s.withDaemon { _ in
                try await Self.v1Serving(s)
                let ended = try await s.outcome(try await s.deploy("v2"), within: .seconds(30))
                #expect(ended.state == .rolledBack)
                #expect(ended.message?.contains("canary aborted: prometheus vector(42): value > 10: value 42.0 > 10.0") == true, "\(ended.message ?? "")")
            }
        } catch {
            _ = await ProcessGroup.stop(prom.pid, startTime: prom.startTime, timeout: .seconds(5))
            throw error
        }
        _ = await ProcessGroup.stop(prom.pid, startTime: prom.startTime, timeout: .seconds(5))
    }

    /// A canary that crashes is reverted within two analysis intervals of the crash.
    @Test(.timeLimit(.minutes(2)))
    func aCrashingCanaryIsRevertedWithinTwoIntervals() async throws {
        let s = try Self.sandbox(steps: "[{ weight: 25, pause: manual }]")
        try await s.withDaemon { _ in
            try await Self.v1Serving(s, v2: "\"crash_after_s\": 3")
            let load = LoadLoop(port: s.port)
            load.start(concurrency: 2, maxDuration: .seconds(60))
            let d = try await s.deploy("v2")
            let canary = try await poll(within: .seconds(10)) { try await s.status().instances.first { $0.release == "v2" } }
            let ended = try await s.outcome(d, within: .seconds(30))
            _ = await load.stop()
            #expect(ended.state == .rolledBack && ended.message?.contains("canary aborted: the canary") == true, "\(ended.message ?? "")")
            let p: DeploymentProgress = try await s.client.get("/v1/deployments/\(d.id)?after=0")
            let revert = try #require(p.events.first { $0.state == .rollingBack })
            let crash = canary.startedAt.addingTimeInterval(3)
            #expect(revert.time.timeIntervalSince(crash) < 2 * 0.25 + 0.25, "reverted \(revert.time.timeIntervalSince(crash))s after the crash")
        }
    }

    /// `slipway canary abort` (the CLI, then the API): traffic back to the stable release, recorded as aborted by a
    /// person, the release not remembered as bad, no incident. A canary the analysis reverts afterwards is an
    /// automatic rollback: its incident names that release and that deployment.
    @Test(.timeLimit(.minutes(2)))
    func aPersonsAbortOpensNoIncidentButAnAutomaticRevertDoes() async throws {
        // A `command` channel: the notifications land in a file, one line each.
        let s = try Self.sandbox(steps: "[{ weight: 25, pause: manual }]", extra: """
            notify:
              - { command: ["/bin/sh", "-c", "echo \\"$SLIPWAY_EVENT_TYPE|$SLIPWAY_TEXT\\" >> notified.txt"], events: [rollback, alert], group_wait: 0s }
            """)
        let notified = s.dir + "/notified.txt"
        func lines(_ prefix: String) -> [String] {
            ((try? String(contentsOfFile: notified, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
        }
        try await s.withDaemon { daemon in
            try await Self.v1Serving(s)
            _ = try await s.release("v3", settings: "\"fail_rate\": 0.5")
            func waitingCanary() async throws {
                _ = try await poll(within: .seconds(30)) { try await Self.canary(s).canary?.last?.decision == .wait ? true : nil }
            }
            let first = try await s.deploy("v2")
            try await waitingCanary()
            let cli = try await s.cli(["canary", "abort", "--reason", "checkout looks off"])
            #expect(cli.status == 0 && cli.text.contains("aborting the canary of v2; v1 takes all traffic"), "\(cli)")
            let aborted = try await s.outcome(first)
            #expect(aborted.state == .rolledBack && aborted.endReason == .aborted, "\(aborted)")
            #expect(aborted.message?.contains("aborted by ") == true && aborted.message?.contains("checkout looks off") == true, "\(aborted.message ?? "")")
            // Not remembered as bad: the same release canaries again, and the API's abort ends it the same way.
            let second = try await s.deploy("v2")
            try await waitingCanary()
            let status: CanaryStatus = try await s.client.post("/v1/canary", CanaryRequest(environment: nil, action: .abort, reason: "again", actor: "test"))
            #expect(status.canary?.command?.action == .abort)
            #expect(try await s.outcome(second).endReason == .aborted)
            #expect(try await s.status().currentRelease == "v1")
            let audit = try await s.cli(["audit", "--json"])
            #expect(audit.text.components(separatedBy: "\"canary.abort\"").count - 1 == 2, "both aborts audited: \(audit.text)")

            // v3 fails half its requests: the analysis reverts it on its own.
            let load = LoadLoop(port: s.port)
            load.start(concurrency: 4, maxDuration: .seconds(60))
            let reverted = try await s.outcome(try await s.deploy("v3"), within: .seconds(30))
            _ = await load.stop()
            #expect(reverted.state == .rolledBack && reverted.endReason == .reverted, "\(reverted)")
            let incident = try await poll(within: .seconds(15)) { () async throws -> IncidentInfo? in
                try await s.client.get("/v1/incidents", as: [IncidentInfo].self).first
            }
            let all: [IncidentInfo] = try await s.client.get("/v1/incidents")
            #expect(all.count == 1, "the aborts opened none: \(all)")
            #expect(incident.release == "v3" && incident.deploymentId == reverted.id && incident.mitigationDeploymentId == reverted.id
                    && incident.cause == .automaticRollback && incident.status == .mitigated, "\(incident)")

            // The notifications: each abort as a rollback; the automatic rollback's alert once, and its end.
            let fired = try await poll(within: .seconds(15)) { () -> [String]? in
                let l = lines("alert.firing|[P1] production: automatic-rollback firing: ")
                return l.isEmpty ? nil : l
            }
            #expect(fired.count == 1 && fired[0].contains("release v3 (deployment \(reverted.id)) went bad"), "\(fired)")
            #expect(lines("deployment.transition|production: deploy of v2 rolled back: ").count == 2, "\(lines(""))")
            // No automatic rollback in the last ten minutes, and ten more of keep_firing_for: it resolves, and says so once.
            await daemon.engine.signals.evaluateAlerts(now: Date().addingTimeInterval(700))
            await daemon.engine.signals.evaluateAlerts(now: Date().addingTimeInterval(1400))
            let resolved = try await poll(within: .seconds(15)) { () -> [String]? in
                let l = lines("alert.resolved|[P1] production: automatic-rollback resolved")
                return l.isEmpty ? nil : l
            }
            #expect(resolved.count == 1 && lines("alert.firing|").count == 1, "\(lines(""))")
        }
    }

    /// With no traffic a step never passes or fails on an empty window: it holds, then aborts as "insufficient traffic".
    @Test(.timeLimit(.minutes(2)))
    func aCanaryWithNoTrafficHoldsThenAborts() async throws {
        let s = try Self.sandbox(steps: "[{ weight: 10 }]", maxStep: "2s")
        try await s.withDaemon { _ in
            try await Self.v1Serving(s)
            let ended = try await s.outcome(try await s.deploy("v2"), within: .seconds(30))
            #expect(ended.state == .rolledBack)
            #expect(ended.message?.contains("insufficient traffic: step 1 (10%) had 0 of 40 canary requests after 2s") == true, "\(ended.message ?? "")")
            let c = try await Self.canary(s)
            #expect(c.decisions.map(\.type) == ["canary.started", "canary.held", "canary.aborted"], "\(c.decisions.map(\.type))")
            #expect(try await s.status().currentRelease == "v1")
            #expect(try await s.outcome(try await s.deploy("v2"), within: .seconds(30)).state == .rolledBack, "too little traffic does not make a release bad")
        }
    }

    /// `kill -9` of the daemon mid-canary: the router keeps the canary's weights, and the next start resumes
    /// the canary at the same step with the same instances, to be promoted as usual.
    @Test(.timeLimit(.minutes(2)))
    func aDaemonKilledMidCanaryResumesAtTheSameStep() async throws {
        let s = try Self.sandbox(steps: "[{ weight: 25 }, { weight: 40, pause: manual }]")
        defer { s.removeFiles() }
        func startDaemon() async throws -> ProcessSpawner.Spawned {
            let child = try ProcessSpawner.spawn(argv: [TestBinaries.slipway, "server", "--config", s.dir + "/slipway.yml", "--log-level", "warning"],
                                                 directory: s.dir, environment: ProcessInfo.processInfo.environment, logFile: s.dir + "/daemon.log")
            try await s.waitForDaemon()
            return child
        }
        var daemon = try await startDaemon()
        let load = LoadLoop(port: s.port)
        do {
            try await Self.v1Serving(s)
            load.start(concurrency: 4, maxDuration: .seconds(60))
            let d = try await s.deploy("v2")
            let before = try await poll(within: .seconds(30)) { () async throws -> CanaryInfo? in
                let c = try await Self.canary(s).canary
                return c?.step == 1 ? c : nil
            }
            let canaryPids = Set(try await s.status().instances.filter { $0.release == "v2" }.map(\.pid))
            kill(daemon.pid, SIGKILL)
            _ = ProcessInspector.isAlive(pid: daemon.pid, startTime: daemon.startTime)  // reap
            // The daemon is dead; the router keeps sending 40% to the canary.
            let served = load.summary.byRelease["v2"] ?? 0
            _ = try await poll(within: .seconds(10)) { (load.summary.byRelease["v2"] ?? 0) > served + 20 ? true : nil }
            daemon = try await startDaemon()
            let after = try await poll(within: .seconds(10)) { () async throws -> CanaryInfo? in
                let c = try await Self.canary(s).canary
                return c?.last?.time ?? .distantPast > before.last?.time ?? .distantPast ? c : nil
            }
            #expect(after.step == 1 && after.weight == 40 && after.stepStartedAt == before.stepStartedAt, "\(after)")
            #expect(Set(try await s.status().instances.filter { $0.release == "v2" }.map(\.pid)) == canaryPids, "the same canary, re-adopted")
            let p: DeploymentProgress = try await s.client.get("/v1/deployments/\(d.id)?after=0")
            #expect(p.deployment.state == .canary)
            #expect(p.events.contains { $0.detail.contains("resuming the canary at step 2 of 2 (40%)") })
            _ = try await s.client.post("/v1/canary", CanaryRequest(environment: nil, action: .promoteFull, actor: "test"), as: CanaryStatus.self)
            #expect(try await s.outcome(d).state == .succeeded)
            #expect(try await s.status().currentRelease == "v2")
            let summary = await load.stop()
            #expect(summary.failures == 0, "\(summary)")
        } catch {
            _ = await load.stop()
            await s.tearDown()
            kill(daemon.pid, SIGKILL)
            throw error
        }
        await s.tearDown()
        kill(daemon.pid, SIGKILL)
        _ = ProcessInspector.isAlive(pid: daemon.pid, startTime: daemon.startTime)
    }
}
