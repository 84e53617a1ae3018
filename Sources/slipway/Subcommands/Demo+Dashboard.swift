import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import SlipwayServer

extension DemoRunner {
    /// 9: the web dashboard, as a browser reaches it: a one-time sign-in link, the overview, and the reverted
    /// canary's page with the verdicts that reverted it.
    func dashboardStep(live: String, revertedCanary: Int64) async throws {
        let link: DashboardLink = try await client.post("/v1/ui/links", EmptyBody())
        let http = MiniHTTPClient()
        let signIn = try await http.request("GET", .tcp(host: "127.0.0.1", port: apiPort), path: link.path)
        guard signIn.status == 303, let cookie = signIn.header("Set-Cookie")?.split(separator: ";").first else {
            throw SlipwayError(.failed, "the dashboard's sign-in link answered \(signIn.status)")
        }
        let start = ContinuousClock.now
        let page = try await http.request("GET", .tcp(host: "127.0.0.1", port: apiPort), path: "/ui", headers: [("Cookie", String(cookie))])
        let ms = (ContinuousClock.now - start).components.attoseconds / 1_000_000_000_000_000 + (ContinuousClock.now - start).components.seconds * 1000
        guard page.status == 200, page.bodyText.contains("<strong class=\"release\">\(live)</strong>") else {
            throw SlipwayError(.failed, "the dashboard's overview did not show \(live) live (\(page.status))")
        }
        let charts = page.bodyText.components(separatedBy: "<svg class=\"chart\"").count - 1
        say("9. dashboard at http://127.0.0.1:\(apiPort)/ui: overview with \(live) live and \(charts) traffic charts, rendered in \(ms) ms "
            + "(signed in through a one-time link; slipway dashboard prints one)")
        let canary = try await http.request("GET", .tcp(host: "127.0.0.1", port: apiPort), path: "/ui/deployments/\(revertedCanary)",
                                            headers: [("Cookie", String(cookie))]).bodyText
        let decisions = (canary.components(separatedBy: "<table class=\"decisions\">").last ?? "").components(separatedBy: "</table>")[0]
        let rows = decisions.components(separatedBy: "<tr><td>").count - 1
        let failing = decisions.components(separatedBy: "<li class=\"bad\"><strong>fail</strong>").count - 1
        say("   /ui/deployments/\(revertedCanary) (canary v4): \(rows) decisions, \(failing) failing verdict(s), each with both releases' figures and its evidence")
    }
}
