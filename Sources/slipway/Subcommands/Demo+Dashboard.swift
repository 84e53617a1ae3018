import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import SlipwayServer

extension DemoRunner {
    /// 9: the web dashboard, as a browser reaches it: a one-time sign-in link, then the overview.
    func dashboardStep(live: String) async throws {
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
    }
}
