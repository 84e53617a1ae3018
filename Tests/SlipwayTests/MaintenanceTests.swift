import Foundation
import NIOPosix
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Testing
@testable import SlipwayRouter

/// Maintenance mode over real sockets: the 503 page with Retry-After, requests held while paused and
/// released by the next table (or answered with the page at the hold limit), and the CLI path through the daemon.
@Suite(.serialized)
struct MaintenanceTests {
    static func table(port: Int, backend: Int, generation: Int, maintenance: MaintenanceMode?) -> RouteTable {
        RouteTable(generation: generation, listeners: [ListenerTable(
            name: "production", listen: ListenAddress(host: "127.0.0.1", port: port),
            pools: [Pool(name: "v1", backends: [Backend(port: backend)])], maintenance: maintenance)])
    }

    static func mode(_ mode: MaintenanceMode.Mode, holdMs: Int64 = 30_000) -> MaintenanceMode {
        MaintenanceMode(mode: mode, html: MaintenanceMode.page(message: "Upgrading <the> database"), retryAfterS: 120, holdLimitMs: holdMs,
                        since: 0, actor: "t")
    }

    static func get(_ port: Int, _ method: String = "GET", path: String = "/", body: [UInt8]? = nil) async throws -> MiniHTTPClient.Response {
        try await MiniHTTPClient().request(method, .tcp(host: "127.0.0.1", port: port), path: path, body: body, timeout: .seconds(20))
    }

    @Test(.timeLimit(.minutes(1)))
    func onAnswersThePageAndOffRestoresTraffic() async throws {
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let (proxy, port) = try await RouterTests.proxy([a.port])
            try await closing(proxy) {
                try await proxy.apply(Self.table(port: port, backend: a.port, generation: 2, maintenance: Self.mode(.on)))
                let r = try await Self.get(port)
                #expect(r.status == 503)
                #expect(r.header("retry-after") == "120")
                #expect(r.header("content-type")?.hasPrefix("text/html") == true)
                #expect(r.bodyText.contains("Upgrading &lt;the&gt; database"))
                #expect(r.header("x-request-id") != nil)
                let head = try await Self.get(port, "HEAD")
                #expect(head.status == 503 && head.body.isEmpty)
                let pool = try #require(await proxy.registry.report()["production"]?["v1"])
            #expect(pool.requests == 0, "nothing reached the app")
                try await proxy.apply(Self.table(port: port, backend: a.port, generation: 3, maintenance: nil))
                #expect(try await SlipwayHTTPProbe.get(port: port) == "200 backend a\n")
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func pauseHoldsRequestsUntilResume() async throws {
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let (proxy, port) = try await RouterTests.proxy([a.port])
            try await closing(proxy) {
                try await proxy.apply(Self.table(port: port, backend: a.port, generation: 2, maintenance: Self.mode(.paused)))
                let body = [UInt8](repeating: 7, count: 200_000)
                let plain = Task { try await Self.get(port) }
                let upload = Task { try await Self.get(port, "POST", path: "/echo", body: body) }
                // Both are held by the router (it says so), and neither has an answer.
                _ = try await poll(within: .seconds(10)) { proxy.held()["production"] == 2 ? true : nil }
                let after = try #require(await proxy.registry.report()["production"]?["v1"])
            #expect(after.requests == 0)
                // Resume: the next table releases them to the app, the upload's body intact.
                try await proxy.apply(Self.table(port: port, backend: a.port, generation: 3, maintenance: nil))
                let got = try await plain.value
                #expect(got.status == 200 && got.bodyText == "backend a\n")
                let echoed = try await upload.value
                #expect(echoed.bodyText == "a got 200000 bytes sum \(body.reduce(0) { ($0 + Int($1)) % 1_000_003 })\n")
                #expect(proxy.held().isEmpty)
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aRequestHeldPastTheLimitGetsThePage() async throws {
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let (proxy, port) = try await RouterTests.proxy([a.port])
            try await closing(proxy) {
                try await proxy.apply(Self.table(port: port, backend: a.port, generation: 2, maintenance: Self.mode(.paused, holdMs: 300)))
                let began = ContinuousClock.now
                let r = try await Self.get(port)
                #expect(r.status == 503 && r.bodyText.contains("Upgrading"))
                #expect(ContinuousClock.now - began >= .milliseconds(300))
                // A table change that keeps the pause does not restart the clock or release the request.
                let held = Task { try await Self.get(port) }
                _ = try await poll(within: .seconds(10)) { proxy.held()["production"] == 1 ? true : nil }
                try await proxy.apply(Self.table(port: port, backend: a.port, generation: 3, maintenance: Self.mode(.paused, holdMs: 300)))
                #expect(try await held.value.status == 503)
                #expect(proxy.held().isEmpty)
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func theDaemonAuditsMaintenanceAndKeepsItAcrossDeploys() async throws {
        let s = try Sandbox()
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let on: EnvironmentStatus = try await s.client.post("/v1/maintenance", MaintenanceRequest(
                environment: nil, action: .on, message: "Back at 10:00", retryAfter: "5m", actor: "t"))
            #expect(on.maintenance?.mode == .on)
            let r = try await Self.get(s.port)
            #expect(r.status == 503 && r.header("retry-after") == "300" && r.bodyText.contains("Back at 10:00"))
            // Resume is refused unless paused; a bad duration is a usage error naming the flag.
            await #expect(throws: SlipwayError.self) {
                let _: EnvironmentStatus = try await s.client.post("/v1/maintenance", MaintenanceRequest(environment: nil, action: .resume, actor: "t"))
            }
            do {
                let _: EnvironmentStatus = try await s.client.post("/v1/maintenance", MaintenanceRequest(environment: nil, action: .pause, limit: "soon", actor: "t"))
                Issue.record("accepted --limit soon")
            } catch let error as SlipwayError {
                #expect(error.code == .usage && error.message.contains("--limit"))
            }
            // A deploy does not end maintenance: the page stays until 'off'.
            _ = try await s.release("v2")
            let d2 = try await s.outcome(try await s.deploy("v2"))
            #expect(d2.state == .succeeded, "\(d2.message ?? "")")
            #expect(try await Self.get(s.port).status == 503)
            let off: EnvironmentStatus = try await s.client.post("/v1/maintenance", MaintenanceRequest(environment: nil, action: .off, actor: "t"))
            #expect(off.maintenance == nil)
            #expect(try await s.get().hasPrefix("200 hello from demo-app v2"))
            let audit: [AuditEntry] = try await s.client.get("/v1/audit?limit=50")
            let actions = audit.map(\.action).filter { $0.hasPrefix("maintenance.") }
            #expect(Set(actions) == ["maintenance.on", "maintenance.off"], "\(actions)")
        }
    }
}
