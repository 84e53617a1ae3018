import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayEngine
import SlipwayHTTP
import SlipwayRuntime
import SlipwayServer
import Testing

/// Restarting the router process itself under load: the listening sockets pass to the new process and
/// no request fails, whether it is restarted by SIGHUP (standalone) or by the daemon.
@Suite(.serialized)
struct RouterRestartTests {
    static func pids(inLog path: String) -> [Int32] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.contains("router started") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("router.pid=") }.flatMap { Int32($0.dropFirst("router.pid=".count)) }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func sighupHandsTheSocketsToANewProcessWithoutAFailedRequest() async throws {
        let backend = try await RouterTests.backend("a")
        try await stopping([backend.task]) {
            let port = try PortAllocator.freePort()
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-restart-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let log = dir + "/router.log"
            let first = try ProcessSpawner.spawn(argv: [TestBinaries.slipway, "router", "--listen", "127.0.0.1:\(port)", "--upstream", "127.0.0.1:\(backend.port)", "--threads", "2"],
                                                 directory: dir, environment: ProcessInfo.processInfo.environment, logFile: log)
            defer { for pid in Self.pids(inLog: log) { kill(pid, SIGTERM) } }
            _ = try await poll(within: .seconds(20)) { (try? await SlipwayHTTPProbe.get(port: port)) == "200 backend a\n" ? true : nil }

            let load = LoadLoop(port: port)
            load.start(concurrency: 4, maxDuration: .seconds(60))
            _ = try await poll(within: .seconds(10)) { load.summary.requests > 50 ? true : nil }
            kill(first.pid, SIGHUP)
            let next = try await poll(within: .seconds(30)) { Self.pids(inLog: log).count >= 2 ? Self.pids(inLog: log)[1] : nil }
            #expect(next != first.pid)
            // The old process drains and exits; the new one keeps serving.
            _ = try await poll(within: .seconds(30)) { ProcessInspector.isAlive(pid: first.pid, startTime: first.startTime) ? nil : true }
            let before = load.summary.requests
            _ = try await poll(within: .seconds(10)) { load.summary.requests > before + 50 ? true : nil }
            let summary = await load.stop()
            #expect(summary.failures == 0, "\(summary)")
            #expect(ProcessInspector.isAlive(pid: next, startTime: ProcessInspector.startTime(next) ?? 0))
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(text.contains("router.inherited=1"), "the new process adopted the listening socket rather than binding anew")
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func theDaemonRestartsItsRouterUnderLoadAndAuditsIt() async throws {
        let s = try Sandbox()
        try await DeployIntegrationTests().withDaemon(s) { _ in
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let load = LoadLoop(port: s.port)
            load.start(concurrency: 4, maxDuration: .seconds(60))
            _ = try await poll(within: .seconds(10)) { load.summary.requests > 50 ? true : nil }
            let result: RouterRestartResult = try await s.client.post("/v1/router/restart", EnvironmentRequest(environment: nil, actor: "tester"))
            let before = load.summary.requests
            _ = try await poll(within: .seconds(10)) { load.summary.requests > before + 50 ? true : nil }
            let summary = await load.stop()
            #expect(summary.failures == 0, "\(summary)")
            // The daemon talks to the new process, which still routes to v1.
            let health = try await MiniHTTPClient().request("GET", .unix(path: s.config.root + "/router.sock"), path: "/v1/health")
            #expect(health.bodyText.contains("\"pid\":\(result.pid)") || health.bodyText.contains("\"pid\" : \(result.pid)"), "\(health.bodyText)")
            #expect(try await s.get().hasPrefix("200 hello from demo-app v1"))
            let audit: [AuditEntry] = try await s.client.get("/v1/audit?limit=20")
            #expect(audit.contains { $0.action == "router.restart" && $0.outcome == "ok" && $0.actor == IdentityTests.osUser && $0.onBehalfOf == "tester" })
            let events: EventPage = try await s.client.get("/v1/events?limit=100")
            #expect(events.events.contains { if case .router(let r) = $0.payload { r.pid == result.pid } else { false } })
        }
    }

    /// A router that answers slowly (a loaded machine; here stopped with SIGSTOP past the 2 s health check) is
    /// waited for, never doubled: a second router would take the control socket from the one holding the listeners.
    @Test(.timeLimit(.minutes(1)))
    func aSlowRouterIsWaitedForNotDoubled() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-slow-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/logs", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let controller = RouterController(root: dir, executable: TestBinaries.slipway)
        func routers() -> [Int32] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap(Int32.init).filter { pid in
                let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
                return cmdline.contains(controller.socket) && ProcessInspector.isAlive(pid: pid, startTime: 0)
            }
        }
        defer { for pid in routers() { kill(pid, SIGCONT); kill(pid, SIGKILL) } }
        try await controller.ensureRunning(logger: quietLogger())
        let first = try #require(routers().first)
        kill(first, SIGSTOP)
        let ensuring = Task { try await controller.ensureRunning(logger: quietLogger()) }
        try await Task.sleep(for: .seconds(3))  // longer than the health check's 2 s: the router looks gone
        kill(first, SIGCONT)
        try await ensuring.value
        #expect(routers() == [first], "one router, the first: \(routers())")
        let health = try await MiniHTTPClient().request("GET", .unix(path: controller.socket), path: "/v1/health")
        #expect(health.bodyText.contains("\(first)"), "\(health.bodyText)")
    }
}
