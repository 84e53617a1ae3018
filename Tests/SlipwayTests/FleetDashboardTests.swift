import Foundation
import SlipwayCore
@testable import SlipwayFleet
import SlipwayHTTP
import SlipwayRuntime
import Testing

/// The dashboard of a daemon whose config has a fleet environment with shared state (an operations box, say) reads the
/// fleet from PostgreSQL: its deployments, what each host serves after the newest, its events; the overview has a line.
@Suite(.serialized)
struct FleetDashboardTests {
    @Test(.timeLimit(.minutes(2)), .enabled(if: SharedStateTests.canRun, Comment(rawValue: TestServices.skipNote)))
    func theEnvironmentPageShowsTheFleetFromTheSharedState() async throws {
        let (url, text) = try await SharedStateTests.freshDatabaseURL()
        let variable = "SLIPWAY_TEST_BOARD_URL"
        setenv(variable, text, 1)
        defer { unsetenv(variable) }
        // A fleet deployment as a controller journals it: record first, progress as events, outcome and each host's result.
        let shared = try await SharedState.connect(url, app: "demo")
        let record = FleetDeploymentRecord(id: "fd-1-board", environment: "production", version: "v2", kind: .deploy, actor: "alice", holder: "alice@ops", hosts: ["h1", "h2"])
        let journal = try await SharedJournal(shared, record, warn: { _ in })
        journal.logging { _ in }("batch 1: activating h1")
        var outcome = FleetOutcome(deployment: record.id, environment: "production", version: "v2", state: .partial, phase: .activate, epoch: 3,
                                   hosts: [.init(host: "h1", state: .activated, current: "v2", message: "v2 serves"),
                                           .init(host: "h2", state: .failed, current: "v1", message: "health check failed")])
        outcome.message = "1 host failed"
        try await journal.finish(outcome)
        await shared.close()

        let api = try PortAllocator.freePort()
        let s = try Sandbox(extra: """
            server: { listen: "127.0.0.1:\(api)" }
            state: { postgres: { url_secret: \(variable) } }
            environments:
              production: { hosts: [h1, h2] }
            """)
        try await s.withDaemon { _ in
            let session = try await DashboardBrowserTests.session(try await DashboardBrowserTests.link(s, api: api, token: nil), api: api)
            let page = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/ui/env/production",
                                                          headers: [("Cookie", session.cookie)]).bodyText
            #expect(page.contains("Fleet: h1, h2 (rolling, shared state)") && page.contains("Hosts after fd-1-board"), "\(page)")
            #expect(page.contains("<td>h2</td><td class=\"bad\">failed</td>") && page.contains("<td>v1</td><td>health check failed</td>"), "\(page)")
            #expect(page.contains("<td>fd-1-board</td><td>deploy</td><td>v2</td><td class=\"bad\">partial</td><td>alice</td>"), "\(page)")
            #expect(page.contains("<td>fleet.progress</td><td>batch 1: activating h1</td>") && page.contains("<td>fleet.finished</td><td>1 host failed</td>"), "\(page)")
            #expect(!page.contains(url.password ?? "no password"), "the shared state's password stays out of the page")
            let overview = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/ui", headers: [("Cookie", session.cookie)]).bodyText
            #expect(overview.contains("Fleet: 2 host(s); fleet deployment #1 of v2 by alice: partial"), "\(overview)")
        }
    }
}
