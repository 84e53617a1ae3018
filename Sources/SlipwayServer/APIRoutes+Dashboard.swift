import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SlipwayCore
import SlipwayDashboard
import SlipwayEngine
import SlipwayStore

/// The dashboard's pages under `/ui`, its sign-in, its buttons and its live event stream. Pages need a
/// session cookie (or `Authorization: Bearer`); every button checks the CSRF token of its session and the
/// same role as the API route it stands for, and calls the same engine operation.
extension APIRoutes {
    static let sessionCookie = "slipway_session"

    /// `secure`: this listener speaks TLS (the session cookie gets `Secure`).
    static func addDashboardRoutes(_ router: Router<SlipwayRequestContext>, engine: Engine, dashboard: Dashboard, secure: Bool) {
        router.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/ui"]) }
        router.get("ui") { _, context in html(try await dashboard.overview(viewer: try viewer(context, dashboard))) }
        router.get("ui/env/:name") { _, context in
            html(try await dashboard.environment(try context.parameters.require("name"), viewer: try viewer(context, dashboard)))
        }
        router.get("ui/deployments/:id") { _, context in
            html(try await dashboard.deployment(try context.parameters.require("id", as: Int64.self), viewer: try viewer(context, dashboard)))
        }
        router.get("ui/backups") { _, context in html(try await dashboard.backups(viewer: try viewer(context, dashboard))) }
        router.get("ui/alerts") { _, context in html(try await dashboard.alerts(viewer: try viewer(context, dashboard))) }
        router.get("ui/incidents/:id") { _, context in
            html(try await dashboard.incident(try context.parameters.require("id", as: Int64.self), viewer: try viewer(context, dashboard)))
        }
        router.get("ui/dora") { request, context in
            html(try await dashboard.dora(viewer: try viewer(context, dashboard), environment: request.uri.queryParameters.get("env")))
        }
        // Browsers ask for it on every page: answered (empty) without a token, so it never counts as a failed sign-in.
        router.get("favicon.ico") { _, _ in Response(status: .noContent, headers: [.cacheControl: "max-age=86400"]) }
        router.get("ui/static/app.css") { _, _ in asset(Dashboard.css, type: "text/css; charset=utf-8") }
        router.get("ui/static/app.js") { _, _ in asset(Dashboard.js, type: "text/javascript; charset=utf-8") }
        router.get("ui/login") { _, _ in html(dashboard.login(error: nil)) }
        router.post("ui/login") { request, context in
            let form = try await formFields(request)
            guard let token = form["token"], !token.isEmpty, case .valid(let info) = try engine.access.check(token: token) else {
                try engine.access.audit(Principal(name: "(dashboard sign-in)", via: .token), action: "auth.failed", target: "POST /ui/login",
                                   outcome: "refused", detail: "no valid token")
                return html(dashboard.login(error: "That token is not valid (unknown, expired or revoked)."), status: .unauthorized)
            }
            let session = DashboardSession(user: info.user, roles: info.roles, tokenId: info.id, expiresAt: Date().addingTimeInterval(Dashboard.sessionLength))
            try engine.access.audit(session.principal, action: "dashboard.sign_in", target: "/ui", outcome: "ok", detail: "token \(info.id)")
            return try signedIn(session, dashboard: dashboard, secure: secure)
        }
        router.get("ui/login/:code") { _, context in
            guard let session = await dashboard.links.redeem(try context.parameters.require("code")) else {
                return html(dashboard.login(error: "That sign-in link is used or expired; run slipway dashboard again."), status: .unauthorized)
            }
            try engine.access.audit(session.principal, action: "dashboard.sign_in", target: "/ui", outcome: "ok", detail: "one-time link")
            return try signedIn(session, dashboard: dashboard, secure: secure)
        }
        router.post("ui/logout") { request, context in
            try await checkCSRF(request, context, dashboard)
            return Response(status: .seeOther, headers: [.location: "/ui/login", .setCookie: "\(sessionCookie)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"])
        }
        router.post("ui/env/:name/rollback") { request, context in
            try await checkCSRF(request, context, dashboard)
            let name = try context.parameters.require("name")
            let body = try await context.attributed(DeployRequest(version: nil, environment: name, strategy: nil, kind: .rollback, actor: "dashboard"))
            let started = try await engine.deployments.startDeployment(body)
            return Response(status: .seeOther, headers: [.location: "/ui/deployments/\(started.id)"])
        }
        router.post("ui/env/:name/maintenance") { request, context in
            let form = try await checkCSRF(request, context, dashboard)
            let name = try context.parameters.require("name")
            guard let action = form["action"].flatMap(MaintenanceRequest.Action.init(rawValue:)) else {
                throw SlipwayError.usage("action: expected on, off, pause or resume")
            }
            _ = try await engine.maintenance(try await context.attributed(MaintenanceRequest(environment: name, action: action, actor: "dashboard")))
            return Response(status: .seeOther, headers: [.location: "/ui/env/\(name)"])
        }
        router.post("ui/env/:name/canary") { request, context in
            let form = try await checkCSRF(request, context, dashboard)
            let name = try context.parameters.require("name")
            guard let action = form["action"].flatMap(CanaryCommand.Action.init(rawValue:)) else { throw SlipwayError.usage("action: expected promote or abort") }
            _ = try await engine.canaries.command(try await context.attributed(CanaryRequest(environment: name, action: action, reason: "from the dashboard", actor: "dashboard")))
            return Response(status: .seeOther, headers: [.location: "/ui/env/\(name)"])
        }
        router.post("ui/env/:name/approvals") { request, context in
            let form = try await checkCSRF(request, context, dashboard)
            let name = try context.parameters.require("name")
            guard let id = form["deployment"].flatMap({ Int64($0) }), let decision = form["decision"] else {
                throw SlipwayError.usage("expected deployment and decision (approve or reject)")
            }
            _ = try await engine.deployments.decide(ApprovalRequest(deploymentId: id, decision: decision, comment: form["comment"]), by: try await context.principal())
            return Response(status: .seeOther, headers: [.location: "/ui/env/\(name)"])
        }
        router.get("ui/events") { request, _ in
            let newest = try engine.events.lastEventId()
            let after = request.headers[values: Self.lastEventID].first.flatMap { Int64($0) }
                ?? request.uri.queryParameters.get("after").flatMap { Int64($0) } ?? newest
            return try eventStream(engine: engine, after: after, follow: request.uri.queryParameters.get("follow") != "false")
        }
        router.post("v1/ui/links") { _, context in
            let who = try await context.principal()
            let session = DashboardSession(user: who.name, roles: who.roles, tokenId: context.tokenId,
                                           expiresAt: Date().addingTimeInterval(Dashboard.sessionLength))
            let code = await dashboard.links.make(for: session)
            return APIResponse.json(DashboardLink(path: "/ui/login/\(code)", expiresAt: Date().addingTimeInterval(DashboardLinks.lifetime)), status: .created)
        }
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                                           .contentSecurityPolicy: "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func signedIn(_ session: DashboardSession, dashboard: Dashboard, secure: Bool) throws(SlipwayError) -> Response {
        let cookie = "\(sessionCookie)=\(try dashboard.signer.cookie(for: session)); Path=/; Max-Age=\(Int(Dashboard.sessionLength)); HttpOnly; SameSite=Strict"
            + (secure ? "; Secure" : "")
        return Response(status: .seeOther, headers: [.location: "/ui", .setCookie: cookie])
    }

    static func viewer(_ context: SlipwayRequestContext, _ dashboard: Dashboard) throws -> Dashboard.Viewer {
        guard let who = context.authenticated else { throw SlipwayError(.policy, "sign in first") }
        return Dashboard.Viewer(user: who.name, roles: who.roles, csrf: context.dashboardSession.map { dashboard.signer.csrf(for: $0) } ?? "")
    }

    /// A button's post must carry its session's CSRF token (a post with `Authorization: Bearer` has no ambient
    /// credential to abuse and needs none). Returns the form's fields.
    @discardableResult
    static func checkCSRF(_ request: Request, _ context: SlipwayRequestContext, _ dashboard: Dashboard) async throws -> [String: String] {
        let form = try await formFields(request)
        if let session = context.dashboardSession, !dashboard.signer.checkCSRF(form["csrf"], session: session) {
            try dashboard.audit(session, action: "auth.denied", target: "\(request.method.rawValue) \(request.uri.path)", detail: "the form's CSRF token does not match")
            throw Forbidden(message: "the form's CSRF token does not match this session; reload the page and try again")
        }
        return form
    }

    /// `application/x-www-form-urlencoded` fields (the first of each name).
    static func formFields(_ request: Request) async throws -> [String: String] {
        let body = String(buffer: try await request.body.collect(upTo: 64 << 10))
        var out: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            let key = decode(kv[0])
            if out[key] == nil { out[key] = kv.count > 1 ? decode(kv[1]) : "" }
        }
        return out
    }
}

/// What `POST /v1/ui/links` answers: a one-time sign-in path (`slipway dashboard` prints it as a URL).
public struct DashboardLink: Codable, Sendable {
    public var path: String
    public var expiresAt: Date
    enum CodingKeys: String, CodingKey { case path, expiresAt = "expires_at" }
}

extension APIRoutes {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!

    /// `text/event-stream` of the event log after `after`: each event as `id:` (resume with `Last-Event-ID`) and a
    /// small JSON `data:` (id, type, environment). Ends when the client goes or the daemon stops; with
    /// `follow=false`, once the events written so far are sent.
    static func eventStream(engine: Engine, after: Int64, follow: Bool) throws -> Response {
        let feed = engine.events.follow(after: after)
        let end = follow ? Int64.max : try engine.events.lastEventId()
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            if end <= after { try await writer.finish(nil); return }
            for try await event in feed {
                let data: [String: String] = ["id": String(event.id), "type": event.type, "environment": event.environment ?? ""]
                let json = String(decoding: try JSONSerialization.data(withJSONObject: data, options: [.sortedKeys]), as: UTF8.self)
                try await writer.write(ByteBuffer(string: "id: \(event.id)\ndata: \(json)\n\n"))
                if event.id >= end { break }
            }
            try await writer.finish(nil)
        })
    }
}
