import Foundation
@testable import SlipwayDashboard
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import SlipwayServer
import Testing

/// Sessions, CSRF and the charts, as pure values.
struct DashboardUnitTests {
    @Test func aSessionCookieHoldsOnlyUnchangedAndInTime() throws {
        let signer = SessionSigner(key: Data(repeating: 7, count: 32))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let session = DashboardSession(user: "dana", roles: [.deployer], tokenId: "t1", expiresAt: now.addingTimeInterval(60), nonce: "n1")
        let cookie = try signer.cookie(for: session)
        #expect(signer.session(from: cookie, now: now) == session)
        #expect(signer.session(from: cookie, now: now.addingTimeInterval(61)) == nil, "expired")
        // A viewer who edits their roles in the cookie breaks its signature.
        var forged = session
        forged.roles = [.admin]
        let payload = try signer.cookie(for: forged).split(separator: ".")[0]
        #expect(signer.session(from: payload + "." + cookie.split(separator: ".")[1], now: now) == nil)
        #expect(SessionSigner(key: Data(repeating: 8, count: 32)).session(from: cookie, now: now) == nil, "another daemon's key")
        let csrf = signer.csrf(for: session)
        #expect(signer.checkCSRF(csrf, session: session))
        #expect(!signer.checkCSRF(csrf, session: DashboardSession(user: "dana", roles: [.deployer], tokenId: "t1", expiresAt: session.expiresAt, nonce: "n2")))
        #expect(!signer.checkCSRF(nil, session: session) && !signer.checkCSRF("", session: session))
    }

    @Test func chartsAreSVGWithATextSummary() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let points: [(time: Date, value: Double?)] = [(now.addingTimeInterval(-300), 0.01), (now.addingTimeInterval(-150), nil), (now.addingTimeInterval(-60), 0.5), (now, 0.25)]
        let svg = SVGChart(title: "v2 5xx rate", unit: "%", series: [.init(name: "5xx", points: points, style: "s-err")]).render(now: now)
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        #expect(svg.contains("aria-label=\"v2 5xx rate: 5xx 25.0% (last 5 min)\""), "\(svg)")
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2, "a gap breaks the line: \(svg)")
        #expect(svg.contains("0.0,") && svg.contains("240.0,"), "the oldest point at the left edge, the newest at the right: \(svg)")
    }
}

extension DashboardUnitTests {
    /// A failed button answers a browser with a page: the reason (escaped), a way back to where it was, and no
    /// live refresh (the page's address is the form's).
    @Test func anErrorPageSaysWhyAndLeadsBack() {
        let page = Dashboard.errorPage(status: 409, message: "production is in a freeze until <Monday>; ask an admin", path: "/ui/env/production/rollback")
        #expect(page.contains("<h1>Refused by policy</h1>") && page.contains("production is in a freeze until &lt;Monday&gt;; ask an admin"), "\(page)")
        #expect(page.contains("<a href=\"/ui/env/production\">Back</a>") && page.contains("data-live=\"off\"") && !page.contains("/ui/login"), "\(page)")
        let signIn = Dashboard.errorPage(status: 401, message: "sign in", path: "/ui/logout")
        #expect(signIn.contains("<a href=\"/ui\">Back</a>") && signIn.contains("<a href=\"/ui/login\">Sign in</a>"), "\(signIn)")
    }
}

extension DashboardUnitTests {
    /// The review reads as a page: headings, lists, the timeline as a table, and nothing in it becomes markup.
    @Test func theReviewRendersAsHTMLWithItsTextEscaped() {
        let markdown = """
            # Post-incident review: incident 3 — <b>errors</b>

            - **Environment:** production
            - [ ] What would have detected it sooner? (an alert's `for:`, a rule on the <failing> signal)

            ## Timeline

            | time (UTC) | what | who |
            |---|---|---|
            | 2026-11-26T10:00:00Z | opened: error_rate > 5% \\| p99 | snake_case_user |

            _Prefilled by slipway_
            """
        let html = ReviewHTML.render(markdown)
        #expect(html.contains("<h2>Post-incident review: incident 3 — &lt;b&gt;errors&lt;/b&gt;</h2>"), "\(html)")
        #expect(html.contains("<ul>\n<li><strong>Environment:</strong> production</li>"), "\(html)")
        #expect(html.contains("<li><input type=\"checkbox\" disabled> What would have detected it sooner? (an alert's <code>for:</code>, a rule on the &lt;failing&gt; signal)</li>"), "\(html)")
        #expect(html.contains("<h3>Timeline</h3>") && html.contains("<th scope=\"col\">time (UTC)</th>") && !html.contains("---"), "\(html)")
        #expect(html.contains("<td class=\"wrap\">opened: error_rate &gt; 5% | p99</td><td class=\"wrap\">snake_case_user</td>"), "\(html)")
        #expect(html.contains("<p><em>Prefilled by slipway</em></p>"), "\(html)")
    }
}

/// The dashboard in a real browser (Debian's chromium, headless) against a real daemon.
@Suite(.serialized)
struct DashboardBrowserTests {
    static func chromium() -> String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The DOM chromium ends with after loading `url` (following redirects, keeping cookies in `profile`).
    static func dumpDOM(_ url: String, profile: String, javascript: Bool = true) async throws -> String {
        let browser = try #require(chromium(), "chromium is not installed (scripts/test.sh installs it)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: browser)
        var args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=\(profile)",
                    "--dump-dom"]
        if !javascript { args.append("--blink-settings=scriptEnabled=false") }
        p.arguments = args + [url]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        let data = try await Task.detached { try out.fileHandleForReading.readToEnd() ?? Data() }.value
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// A one-time sign-in link made with `token` (nil: on the admin socket, as the CLI does).
    static func link(_ s: Sandbox, api: Int, token: String?) async throws -> String {
        if let token {
            let r = try await MiniHTTPClient().request("POST", .tcp(host: "127.0.0.1", port: api), path: "/v1/ui/links",
                                                       headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: Array("{}".utf8))
            let link = try SlipwayJSON.decoder().decode(DashboardLink.self, from: Data(r.body))
            return "http://127.0.0.1:\(api)\(link.path)"
        }
        let printed = try await s.cli(["dashboard"])
        #expect(printed.status == 0, "\(printed)")
        return printed.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A sandbox whose deploys to production need one approver's approval, with the API (and dashboard) on a TCP port.
    static func approvalsSandbox() throws -> (Sandbox, api: Int) {
        let api = try PortAllocator.freePort()
        let s = try Sandbox(extra: """
            server: { listen: "127.0.0.1:\(api)" }
            environments:
              production:
                approvals: { required: 1, roles: [approver] }
            """)
        return (s, api)
    }

    /// A session cookie and the CSRF token of its forms, the way a browser gets them.
    static func session(_ url: String, api: Int) async throws -> (cookie: String, csrf: String) {
        let path = String(url.dropFirst("http://127.0.0.1:\(api)".count))
        let r = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: path)
        let cookie = try #require(r.header("Set-Cookie")?.split(separator: ";").first.map(String.init), "\(r.headers)")
        let page = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/ui/env/production", headers: [("Cookie", cookie)])
        let text = page.bodyText
        let start = try #require(text.range(of: "name=\"csrf\" value=\""), "\(text.prefix(400))")
        let csrf = String(text[start.upperBound...].prefix { $0 != "\"" })
        return (cookie, csrf)
    }

    @Test(.timeLimit(.minutes(3)))
    func aDeployerSeesTheLiveReleaseAndRollsBackAViewerCannot() async throws {
        let api = try PortAllocator.freePort()
        let s = try Sandbox(extra: "server: { listen: \"127.0.0.1:\(api)\" }")
        let profile = NSTemporaryDirectory() + "chromium-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            _ = try await s.release("v2")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            #expect(try await s.outcome(try await s.deploy("v2")).state == .succeeded)
            let deployer: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "dana", roles: [.deployer], expires: "1d"))
            let viewer: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "vic", roles: [.viewer], expires: nil))

            // The overview after a deploy, in the browser: signed in through a one-time link, it shows v2 live.
            let overview = try await Self.dumpDOM(try await Self.link(s, api: api, token: nil), profile: profile + "/admin")
            #expect(overview.contains("<h1>Environments</h1>") && overview.contains("<strong class=\"release\">v2</strong>"), "\(overview.prefix(2000))")
            #expect(overview.contains("<svg class=\"chart\""), "charts drawn on the server")
            // The browser's own requests (its favicon on every page) are no failed sign-ins: after a dozen page loads
            // the address is not locked out.
            for _ in 0..<12 {
                let icon = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/favicon.ico")
                #expect(icon.status == 204)
            }
            // A link works once.
            let reused = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/ui/login/nope")
            #expect(reused.status == 401)

            // Without running any script the environment page reads fully: live release, the button, history, times
            // in UTC. (Chromium's headless --dump-dom and --screenshot need scripting, so this reads the served HTML.)
            let dana = try await Self.session(try await Self.link(s, api: api, token: deployer.token), api: api)
            let plain = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/ui/env/production", headers: [("Cookie", dana.cookie)]).bodyText
            #expect(plain.contains("<strong class=\"release\">v2</strong>") && plain.contains("Roll back to v1") && plain.contains(" UTC</time>")
                    && plain.contains("<td>rollback</td>") == false && plain.contains("<h2 id=\"history-h\">Deployments</h2>"), "\(plain.prefix(3000))")
            #expect(plain.components(separatedBy: "<script").count == 2 && plain.contains("<script src=\"/ui/static/app.js\" defer></script>"),
                    "one external deferred script, no inline script")
            // With scripting the browser shows the same page (times converted to the viewer's zone).
            _ = try await Self.dumpDOM(try await Self.link(s, api: api, token: deployer.token), profile: profile + "/dana")
            let rendered = try await Self.dumpDOM("http://127.0.0.1:\(api)/ui/env/production", profile: profile + "/dana")
            #expect(rendered.contains("Roll back to v1") && rendered.contains(" UTC\">"), "local times with UTC on hover: \(rendered.prefix(3000))")

            // A viewer sees no button, and the server refuses the viewer's forged post anyway (and audits it).
            _ = try await Self.dumpDOM(try await Self.link(s, api: api, token: viewer.token), profile: profile + "/vic")
            let seen = try await Self.dumpDOM("http://127.0.0.1:\(api)/ui/env/production", profile: profile + "/vic")
            #expect(seen.contains("<strong class=\"release\">v2</strong>") && !seen.contains("Roll back") && !seen.contains("<button name=\"action\""), "\(seen.prefix(3000))")
            let vic = try await Self.session(try await Self.link(s, api: api, token: viewer.token), api: api)
            let forged = try await MiniHTTPClient().request("POST", .tcp(host: "127.0.0.1", port: api), path: "/ui/env/production/rollback",
                                                            headers: [("Cookie", vic.cookie), ("Content-Type", "application/x-www-form-urlencoded")],
                                                            body: Array("csrf=\(vic.csrf)".utf8))
            #expect(forged.status == 403, "\(forged.status) \(forged.bodyText)")
            let audit: [AuditEntry] = try await s.client.get("/v1/audit?limit=20")
            #expect(audit.contains { $0.actor == "vic" && $0.action == "auth.denied" && $0.target == "POST /ui/env/production/rollback" }, "\(audit.map(\.action))")

            // The cookie is for the dashboard only: the JSON API (which has no CSRF check) wants a token.
            let api1 = try await MiniHTTPClient().request("POST", .tcp(host: "127.0.0.1", port: api), path: "/v1/deployments",
                                                          headers: [("Cookie", dana.cookie), ("Content-Type", "application/json")],
                                                          body: Array("{\"version\": \"v1\", \"kind\": \"rollback\", \"actor\": \"x\"}".utf8))
            #expect(api1.status == 401, "\(api1.status) \(api1.bodyText)")
            // The deployer's rollback button: a post without the page's CSRF token is refused, with it v1 serves again.
            let noToken = try await MiniHTTPClient().request("POST", .tcp(host: "127.0.0.1", port: api), path: "/ui/env/production/rollback",
                                                             headers: [("Cookie", dana.cookie), ("Content-Type", "application/x-www-form-urlencoded")], body: Array("csrf=x".utf8))
            #expect(noToken.status == 403, "\(noToken.status) \(noToken.bodyText)")
            let pressed = try await MiniHTTPClient().request("POST", .tcp(host: "127.0.0.1", port: api), path: "/ui/env/production/maintenance",
                                                             headers: [("Cookie", dana.cookie), ("Content-Type", "application/x-www-form-urlencoded")],
                                                             body: Array("csrf=\(dana.csrf)&action=on".utf8))
            #expect(pressed.status == 303 && pressed.header("Location") == "/ui/env/production", "\(pressed.status) \(pressed.headers)")
            #expect(try await s.status().maintenance != nil, "the form's post did what the button says")
            // In the browser: the deployer clicks "Maintenance off", then "Roll back to v1", and lands on the rollback's page.
            let browser = try await DevToolsBrowser.launch()
            defer { browser.close() }
            let danaLink = try await Self.link(s, api: api, token: deployer.token)
            try await browser.withPage { page in
                try await page.open(danaLink)
                try await page.open("http://127.0.0.1:\(api)/ui/env/production")
                _ = try await page.evaluate("(window.slipwayOldDocument = true, document.querySelector('button[value=off]').click())")
                // Maintenance off, and its operation done (it holds the environment's lock while it works).
                _ = try await poll(within: .seconds(10)) { () async throws -> Bool? in
                    let st = try await s.status()
                    return st.maintenance == nil && st.lock == nil ? true : nil
                }
                // The form's answer is the environment page again: wait for it before the next click.
                var state = ""
                for _ in 0..<200 where state != "complete /ui/env/production" {
                    try await Task.sleep(for: .milliseconds(50))
                    state = try await page.evaluate("(window.slipwayOldDocument ? 'old' : document.readyState) + ' ' + location.pathname")
                }
                #expect(state == "complete /ui/env/production", "after the maintenance form: \(state)")
                _ = try await page.evaluate("document.getElementById('rollback').click()")
                var landed = ""
                for _ in 0..<300 where !(landed.hasPrefix("/ui/deployments/") && landed.hasSuffix("complete")) {
                    try await Task.sleep(for: .milliseconds(50))
                    landed = try await page.evaluate("location.pathname + ' ' + document.readyState")
                }
                let shown = try await page.evaluate("document.body.innerText.slice(0, 400)")
                #expect(landed.hasPrefix("/ui/deployments/") && landed.hasSuffix("complete"), "the click landed at \(landed): \(shown)")
            }
            let back = try await poll(within: .seconds(30)) { try await s.status().currentRelease == "v1" ? true : nil }
            #expect(back)
            let history: [DeploymentInfo] = try await s.client.get("/v1/deployments")
            #expect(history.first?.kind == .rollback && history.first?.actor == "dana", "audited as the signed-in user: \(history.first.map { "\($0)" } ?? "")")
        }
    }

    /// During a canary the environment page follows the steps live, without a reload; with scripting disabled it
    /// still reads fully. `SLIPWAY_SCREENSHOTS=DIR` also saves the overview and the environment page as PNGs.
    @Test(.timeLimit(.minutes(3)))
    func theEnvironmentPageFollowsACanaryWithoutAReload() async throws {
        let api = try PortAllocator.freePort()
        let s = try CanaryTests.sandbox(steps: "[{ weight: 25, pause: manual }, { weight: 50, pause: manual }]", extra: "server: { listen: \"127.0.0.1:\(api)\" }")
        let shots = ProcessInfo.processInfo.environment["SLIPWAY_SCREENSHOTS"]
        let browser = try await DevToolsBrowser.launch()
        defer { browser.close() }
        try await s.withDaemon { _ in
            try await CanaryTests.v1Serving(s)
            let load = LoadLoop(port: s.port)
            load.start(concurrency: 4, maxDuration: .seconds(150))
            _ = try await s.deploy("v2")
            _ = try await poll(within: .seconds(30)) { try await CanaryTests.canary(s).canary?.step == 0 ? true : nil }
            // The canary's instance is measured like the live release's (its CPU and RSS show in status and on the pages).
            let measured = try await poll(within: .seconds(15)) { try await s.status().instances.first { $0.release == "v2" }?.rssBytes }
            #expect(measured > 0)
            let link = try await Self.link(s, api: api, token: nil)
            try await browser.withPage { page in
                try await page.open(link)
                if let shots {
                    try await Task.sleep(for: .seconds(75))  // charts with a minute of traffic
                    try await page.open("http://127.0.0.1:\(api)/ui")
                    try await page.screenshot(to: shots + "/dashboard-overview.png")
                }
                try await page.open("http://127.0.0.1:\(api)/ui/env/production")
                _ = try await page.evaluate("window.slipwayMarker = 'same page'")
                let first = try await page.evaluate("document.getElementById('canary-step').textContent + '/' + document.getElementById('canary-weight').textContent")
                #expect(first == "1/25", "\(first)")
                if let shots { try await page.screenshot(to: shots + "/dashboard-canary.png") }
                // The verdict at step 2 counts the canary's requests since it started: with 70 clean ones the
                // sequential test passes, whatever this machine's request rate (55 were not enough).
                let served = try await poll(within: .seconds(60)) { (load.summary.byRelease["v2"] ?? 0) >= 70 ? true : nil }
                #expect(served)
                let _: CanaryStatus = try await s.client.post("/v1/canary", CanaryRequest(environment: nil, action: .promote, actor: "test"))
                let moved = try await poll(within: .seconds(20)) { () async throws -> String? in
                    let now = try await page.evaluate("document.getElementById('canary-step').textContent + '/' + document.getElementById('canary-weight').textContent + '/' + window.slipwayMarker")
                    return now.hasPrefix("2/50/") ? now : nil
                }
                #expect(moved == "2/50/same page", "the step and weights changed in the page the browser already had: \(moved)")
                // Plain and accessible: at 360 px nothing is wider than the screen (tables scroll inside themselves), and
                // in dark mode the page is dark.
                try await page.call("Emulation.setDeviceMetricsOverride", ["width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": true])
                try await page.open("http://127.0.0.1:\(api)/ui/env/production")
                let widths = try await page.evaluate("document.documentElement.scrollWidth + '/' + window.innerWidth")
                #expect(widths == "360/360", "the page scrolls sideways at 360 px: \(widths)")
                try await page.call("Emulation.setEmulatedMedia", ["features": [["name": "prefers-color-scheme", "value": "dark"]]])
                let background = try await page.evaluate("getComputedStyle(document.body).backgroundColor")
                #expect(background == "rgb(13, 17, 23)", "\(background)")
                try await page.call("Emulation.clearDeviceMetricsOverride")
                // With scripting disabled the page still shows everything (nothing waits for a script).
                try await page.call("Emulation.setScriptExecutionDisabled", ["value": true])
                try await page.open("http://127.0.0.1:\(api)/ui/env/production")
                let text = try await page.evaluate("document.body.innerText")
                #expect(text.contains("Step 2 of 2") && text.contains("weight 50% to v2, 50% to v1") && text.contains("Promote") && text.contains(" UTC"), "\(text.prefix(1500))")
                // Every decision of the canary, newest first, each with both releases' figures and each rule's verdict with its evidence.
                let decisions = try await poll(within: .seconds(10)) { () async throws -> String? in
                    let rows = try await page.evaluate("Array.from(document.querySelectorAll('table.decisions tbody tr')).map(r => r.innerText.replace(/\\s+/g, ' ')).join('\\n')")
                    if rows.contains("held step 2") { return rows }
                    try await page.open("http://127.0.0.1:\(api)/ui/env/production")  // the analysis at step 2 is still to come
                    return nil
                }
                let rows = decisions.split(separator: "\n").map(String.init)
                #expect(rows.count == 4 && rows.last?.contains("started step 1 of 2") == true && rows.contains { $0.contains("step promoted by root") }, "\(decisions)")
                #expect(rows.contains { $0.contains("held step 1 (25%)") && $0.contains("v1: ") && $0.contains("requests") && $0.contains("hold error_rate > baseline + 5%") },
                        "the analysis at step 1, with its evidence: \(decisions)")
                #expect(rows.first?.contains("held step 2 (50%)") == true && rows.first?.contains("pass error_rate > baseline + 5%: canary") == true, "\(decisions)")
                let deploymentLink = try await page.evaluate("document.querySelector('#decisions-h a').getAttribute('href')")
                try await page.open("http://127.0.0.1:\(api)" + deploymentLink)
                let verdicts = try await page.evaluate("document.querySelectorAll('table.decisions tbody tr').length + ' ' + document.querySelector('#verdicts-h').parentElement.innerText")
                #expect(verdicts.hasPrefix("4 ") && verdicts.contains("pass error_rate > baseline + 5%"), "the deployment's page has the same verdicts: \(verdicts)")
            }
            _ = await load.stop()
        }
    }

    /// A deploy waiting for approval shows on the environment page; an approver approves it with a click, and it
    /// deploys; a viewer sees the request but no button.
    @Test(.timeLimit(.minutes(2)))
    func anApproverApprovesAWaitingDeployFromTheEnvironmentPage() async throws {
        let (s, api) = try Self.approvalsSandbox()
        let browser = try await DevToolsBrowser.launch()
        defer { browser.close() }
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            let requested = try await s.deploy("v1")
            #expect(requested.state == .awaitingApproval, "\(requested.state)")
            let approver: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "ada", roles: [.approver], expires: nil))
            let viewer: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "vic", roles: [.viewer], expires: nil))
            let vic = try await Self.session(try await Self.link(s, api: api, token: viewer.token), api: api)
            let seen = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/ui/env/production", headers: [("Cookie", vic.cookie)]).bodyText
            #expect(seen.contains("Waiting for approval") && seen.contains("Deployment <a href=\"/ui/deployments/\(requested.id)\">#\(requested.id)</a> of v1"), "\(seen.prefix(2000))")
            #expect(!seen.contains("value=\"approve\""), "a viewer gets no approve button")
            let adaLink = try await Self.link(s, api: api, token: approver.token)
            try await browser.withPage { page in
                try await page.open(adaLink)
                try await page.open("http://127.0.0.1:\(api)/ui/env/production")
                _ = try await page.evaluate("document.getElementById('approve-\(requested.id)').click()")
            }
            let done = try await s.outcome(requested, within: .seconds(30))
            #expect(done.state == .succeeded, "\(done.state) \(done.message ?? "")")
            let approval: ApprovalStatus = try await s.client.get("/v1/approvals/\(requested.id)")
            #expect(approval.approvals.map(\.user) == ["ada"], "recorded as the signed-in approver")
            // The deployment's page lists the approvals.
            let ada = try await Self.session(try await Self.link(s, api: api, token: approver.token), api: api)
            let shown = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/ui/deployments/\(requested.id)",
                                                           headers: [("Cookie", ada.cookie)]).bodyText
            #expect(shown.contains("<h2 id=\"approvals-h\">Approvals</h2><p>1 of 1 required count.</p>") && shown.contains("<td>ada</td><td class=\"ok\">approve</td>"),
                    "\(shown.prefix(3000))")
            // A button that fails answers the browser with a page saying why (and a way back); a script still gets JSON.
            let form: [(String, String)] = [("Cookie", ada.cookie), ("Content-Type", "application/x-www-form-urlencoded")]
            let body = Array("csrf=\(ada.csrf)&deployment=\(requested.id)&decision=approve".utf8)
            let page = try await MiniHTTPClient().request("POST", .tcp(host: "127.0.0.1", port: api), path: "/ui/env/production/approvals",
                                                          headers: form + [("Accept", "text/html,application/xhtml+xml")], body: body)
            #expect(page.status == 400 && page.header("Content-Type")?.hasPrefix("text/html") == true, "\(page.status) \(page.headers)")
            #expect(page.bodyText.contains("<p class=\"error\" role=\"alert\">deployment \(requested.id) is not awaiting approval (it is succeeded)</p>")
                    && page.bodyText.contains("<a href=\"/ui/env/production\">Back</a>"), "\(page.bodyText)")
            let script = try await MiniHTTPClient().request("POST", .tcp(host: "127.0.0.1", port: api), path: "/ui/env/production/approvals", headers: form, body: body)
            #expect(script.status == 400 && script.header("Content-Type") == "application/json" && script.bodyText.contains("\"error\""), "\(script.bodyText)")
        }
    }

    /// The backups page says what retention will do with each backup and why, and how drills did against their
    /// targets; the alerts page shows a firing alert with its runbook, and its incident's review reads as a page;
    /// the DORA page has the trend.
    @Test(.timeLimit(.minutes(2)))
    func theBackupsAlertsAndDORAPagesShowWhatTheEngineDecided() async throws {
        let api = try PortAllocator.freePort()
        let s = try Sandbox(extra: "server: { listen: \"127.0.0.1:\(api)\" }\n"
                            + "alerts: [{ name: always-on, expr: \"rps >= 0\", severity: P1, runbook: \"https://wiki.example/always\" }]\n" + Sandbox.sqliteBackup("retention: { keep_last: 1 }\nrto_target: 10m\nrpo_target: 1s\ncontinuous: { max_lag: 1s }"))
        try await s.withDaemon { _ in
            _ = try await s.seedDatabase("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            var taken: [BackupInfo] = []
            for _ in 0..<3 { taken.append(try await s.client.post("/v1/backups", BackupCreateRequest(environment: nil, source: nil, actor: "t"))) }
            // A drill restores the newest backup: within its RTO target; its RPO (the backup's age) is judged against 1s.
            let drill: DrillReport = try await s.client.post("/v1/drills", DrillRequest(environment: nil, actor: "t"))
            let viewer: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "vic", roles: [.viewer], expires: nil))
            let auth = [("Authorization", "Bearer \(viewer.token)")]
            let backups = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/ui/backups", headers: auth).bodyText
            func cell(_ id: String) -> String? {
                guard let row = backups.range(of: "<code>\(id)</code>") else { return nil }
                let rest = backups[row.upperBound...]
                guard let start = rest.range(of: "<td class=\"retention"), let end = rest.range(of: "</td>", range: start.upperBound..<rest.endIndex) else { return nil }
                return String(rest[start.upperBound..<end.lowerBound])
            }
            #expect(cell(taken[2].id)?.contains("kept: last 1 of 1") == true, "\(cell(taken[2].id) ?? backups)")
            for old in taken.prefix(2) {
                #expect(cell(old.id)?.contains("next prune removes it: no rule keeps it (keep_last 1)") == true, "\(cell(old.id) ?? backups)")
            }
            // The continuous archive of the source: where it is and how far behind (or why it is not archiving).
            let archives = backups.components(separatedBy: "<caption>Continuous archives</caption>").dropFirst().first ?? ""
            #expect(archives.contains("<tr><td>db</td>") && archives.contains("</tbody>"), "\(backups.prefix(3000))")
            let drillRow = backups.components(separatedBy: "<caption>Drills</caption>").last ?? ""
            #expect(drillRow.contains("<td>10 min</td>") && drillRow.contains("<td>1.0 s</td>")
                    && drillRow.contains(drill.rpoMet == false ? "over RPO" : "passed"), "targets and the result: \(drillRow.prefix(1500))")
            #expect(backups.contains("drill RTO: measured ") && backups.contains("drill RPO: measured ") && backups.contains("class=\"s-target\""),
                    "RTO and RPO over time against their targets: \(backups.prefix(4000))")
            // The alert fires on the live release and opens an incident.
            let incident = try await poll(within: .seconds(20)) { () async throws -> IncidentInfo? in
                let open: [IncidentInfo] = try await s.client.get("/v1/incidents")
                return open.first
            }
            let alerts = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/ui/alerts", headers: auth).bodyText
            #expect(alerts.contains("<tr class=\"sev-P1\"><td>P1</td><td>production</td><td>always-on</td><td>firing</td>")
                    && alerts.contains("<a href=\"https://wiki.example/always\" rel=\"noopener\">runbook</a>")
                    && alerts.contains("<a href=\"/ui/incidents/\(incident.id)\">\(incident.id)</a>"), "\(alerts)")
            let review = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/ui/incidents/\(incident.id)", headers: auth).bodyText
            #expect(review.contains("<h2>Post-incident review: incident \(incident.id)") && review.contains("<h3>Timeline</h3>")
                    && review.contains("<li><strong>Severity:</strong> P1") && review.contains("<summary>The review as Markdown"), "\(review)")
            let dora = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/ui/dora", headers: auth).bodyText
            let trend = try #require(dora.range(of: "<table id=\"trend\">").map { String(dora[$0.lowerBound...]) }, "\(dora)")
            let weeks = trend.components(separatedBy: "<tr><td><time").dropFirst()
            #expect(weeks.count == 12, "12 weekly points: \(trend.prefix(2000))")
            #expect(weeks.first?.contains("0.03 per day") == true, "this week's 30 days hold the deploy: \(weeks.first ?? "")")
            #expect(weeks.last?.contains("0.00 per day") == true, "11 weeks ago nothing was deployed: \(weeks.last ?? "")")
            #expect(dora.components(separatedBy: "<svg class=\"chart\"").count - 1 == 5, "a chart per key")
        }
    }
}
