import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import SlipwayServer
import SlipwayStore
import Testing
@testable import SlipwayEngine

/// The dashboard's buttons, sign-in paths, sessions and live updates, as a browser uses them.
@Suite(.serialized)
struct DashboardFlowTests {
    static func get(_ api: Int, _ path: String, cookie: String? = nil, headers: [(String, String)] = []) async throws -> MiniHTTPClient.Response {
        try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: path, headers: (cookie.map { [("Cookie", $0)] } ?? []) + headers)
    }

    /// What a button sends: the form, with the session's cookie and CSRF token.
    static func press(_ api: Int, _ path: String, _ session: (cookie: String, csrf: String), _ fields: String) async throws -> MiniHTTPClient.Response {
        try await MiniHTTPClient().request("POST", .tcp(host: "127.0.0.1", port: api), path: path,
                                           headers: [("Cookie", session.cookie), ("Content-Type", "application/x-www-form-urlencoded")],
                                           body: Array("csrf=\(session.csrf)&\(fields)".utf8))
    }

    /// The canary's Promote and Abort buttons do what `canary promote|abort` does, as the signed-in user.
    @Test(.timeLimit(.minutes(2)))
    func theCanaryButtonsPromoteAndAbort() async throws {
        let api = try PortAllocator.freePort()
        let s = try CanaryTests.sandbox(steps: "[{ weight: 25, pause: manual }, { weight: 50, pause: manual }]", extra: "server: { listen: \"127.0.0.1:\(api)\" }")
        try await s.withDaemon { _ in
            try await CanaryTests.v1Serving(s)
            let d = try await s.deploy("v2")
            _ = try await poll(within: .seconds(30)) { try await CanaryTests.canary(s).canary?.last?.decision == .wait ? true : nil }
            let session = try await DashboardBrowserTests.session(try await DashboardBrowserTests.link(s, api: api, token: nil), api: api)
            let promoted = try await Self.press(api, "/ui/env/production/canary", session, "action=promote")
            #expect(promoted.status == 303 && promoted.header("Location") == "/ui/env/production", "\(promoted.status) \(promoted.bodyText)")
            _ = try await poll(within: .seconds(20)) { try await CanaryTests.canary(s).canary?.step == 1 ? true : nil }
            let aborted = try await Self.press(api, "/ui/env/production/canary", session, "action=abort")
            #expect(aborted.status == 303, "\(aborted.status) \(aborted.bodyText)")
            let ended = try await s.outcome(d)
            #expect(ended.state == .rolledBack && ended.endReason == .aborted && ended.message?.contains("from the dashboard") == true, "\(ended)")
            let audit: [AuditEntry] = try await s.client.get("/v1/audit?env=production")
            #expect(audit.contains { $0.action == "canary.promote" && $0.outcome == "accepted" } && audit.contains { $0.action == "canary.abort" && $0.outcome == "accepted" })
            #expect(try await s.status().currentRelease == "v1")
        }
    }

    /// Signing in (a one-time link works once; the token form), a reject with its button, live updates over
    /// server-sent events (resumed from `Last-Event-ID`), and a session that ends when its token is revoked.
    @Test(.timeLimit(.minutes(2)))
    func signInRejectLiveUpdatesAndRevokedSessions() async throws {
        let (s, api) = try DashboardBrowserTests.approvalsSandbox()
        let browser = try await DevToolsBrowser.launch()
        defer { browser.close() }
        try await s.withDaemon { daemon in
            // Tokens through the CLI: create (printed once), list, and later revoke.
            let created = try await s.cli(["token", "create", "--user", "ada", "--role", "approver", "--role", "deployer", "--json"])
            let ada = try SlipwayJSON.decoder().decode(TokenCreated.self, from: Data(created.text.utf8))
            let listed = try await s.cli(["token", "list"])
            #expect(listed.status == 0 && listed.text.contains(ada.info.id) && listed.text.contains("ada") && !listed.text.contains(ada.token), "\(listed.text)")

            // A one-time link signs in once; the second use is refused.
            let link = try await DashboardBrowserTests.link(s, api: api, token: ada.token)
            let path = String(link.dropFirst("http://127.0.0.1:\(api)".count))
            #expect(try await Self.get(api, path).status == 303)
            let again = try await Self.get(api, path)
            #expect(again.status == 401 && again.bodyText.contains("That sign-in link is used or expired"), "\(again.status)")
            // The token form signs in; a wrong token does not.
            func signIn(_ token: String) async throws -> MiniHTTPClient.Response {
                try await MiniHTTPClient().request("POST", .tcp(host: "127.0.0.1", port: api), path: "/ui/login",
                                                   headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array("token=\(token)".utf8))
            }
            #expect(try await signIn("not-a-token").status == 401)
            let form = try await signIn(ada.token)
            let cookie = try #require(form.header("Set-Cookie")?.split(separator: ";").first.map(String.init), "\(form.status)")
            #expect(form.status == 303 && form.header("Location") == "/ui")
            let page = try await Self.get(api, "/ui/env/production", cookie: cookie).bodyText
            let start = try #require(page.range(of: "name=\"csrf\" value=\""))
            let session = (cookie: cookie, csrf: String(page[start.upperBound...].prefix { $0 != "\"" }))

            // The reject button ends the request, with the comment as the reason.
            _ = try await s.release("v1")
            let requested = try await s.deploy("v1")
            let mark = try daemon.engine.store.lastEventId()
            let rejected = try await Self.press(api, "/ui/env/production/approvals", session, "deployment=\(requested.id)&decision=reject&comment=not+during+the+sale")
            #expect(rejected.status == 303, "\(rejected.status) \(rejected.bodyText)")
            let ended = try await s.outcome(requested)
            #expect(ended.state == .failed && ended.endReason == .rejected && ended.message == "rejected by ada: not during the sale", "\(ended)")
            // The event stream resumes after Last-Event-ID: what came since, and nothing before.
            let resumed = try await Self.get(api, "/ui/events?follow=false", cookie: cookie, headers: [("Last-Event-ID", "\(mark)")]).bodyText
            let ids = resumed.split(separator: "\n").filter { $0.hasPrefix("id: ") }.compactMap { Int64($0.dropFirst(4)) }
            #expect(!ids.isEmpty && ids.allSatisfy { $0 > mark } && resumed.contains("\"type\":\"deployment.transition\""), "\(resumed)")

            // Live: with the page's 5-second refresh switched off, an event alone brings the change into the open page.
            try await browser.withPage { page in
                try await page.open("http://127.0.0.1:\(api)/ui/login")
                _ = try await page.evaluate("""
                    (function () { var f = document.createElement('form'); f.method = 'post'; f.action = '/ui/login';
                      var i = document.createElement('input'); i.name = 'token'; i.value = '\(ada.token)'; f.appendChild(i);
                      document.body.appendChild(f); f.submit(); return 'sent'; })()
                    """)
                _ = try await poll(within: .seconds(10)) { () async throws -> Bool? in
                    try await page.evaluate("location.pathname") == "/ui" ? true : nil
                }
                try await page.open("http://127.0.0.1:\(api)/ui/env/production")
                _ = try await poll(within: .seconds(10)) { () async throws -> Bool? in
                    try await page.evaluate("document.getElementById('live') ? document.getElementById('live').textContent : ''") == "Live" ? true : nil
                }
                _ = try await page.evaluate("(function () { for (var i = 1; i < 1000; i++) clearInterval(i); window.slipwayMarker = 'kept'; return 'ok'; })()")
                #expect(try await s.cli(["maintenance", "on"]).status == 0)
                let shown = try await poll(within: .seconds(10)) { () async throws -> String? in
                    let text = try await page.evaluate("document.getElementById('main').innerText + '|' + window.slipwayMarker")
                    return text.contains("Maintenance off") ? text : nil
                }
                #expect(shown.hasSuffix("|kept"), "updated in place, not reloaded")
            }

            // Revoking the token ends the sessions made from it.
            #expect(try await Self.get(api, "/ui", cookie: cookie).status == 200)
            let revoke = try await s.cli(["token", "revoke", ada.info.id])
            #expect(revoke.status == 0 && revoke.text.contains("revoked \(ada.info.id) of ada"), "\(revoke)")
            let after = try await Self.get(api, "/ui", cookie: cookie, headers: [("Accept", "text/html")])
            #expect(after.status == 303 && after.header("Location") == "/ui/login", "back to the sign-in page: \(after.status)")
            let viaSocket = try await s.client.get("/v1/status", as: [EnvironmentStatus].self)
            #expect(!viaSocket.isEmpty, "the admin socket is unaffected")
        }
    }
}
