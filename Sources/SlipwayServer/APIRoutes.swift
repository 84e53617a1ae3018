import Foundation
import Hummingbird
import NIOCore
import SlipwayCore
import SlipwayDashboard
import SlipwayEngine

/// The daemon's API, spoken over the admin socket by the CLI. JSON in, JSON out.
public enum APIRoutes {
    /// `dashboard`: shared by every listener (a sign-in link made on the socket works on the TCP listener);
    /// `secure`: this listener speaks TLS.
    public static func router(engine: Engine, dashboard: Dashboard? = nil, secure: Bool = false) -> Router<SlipwayRequestContext> {
        let router = Router(context: SlipwayRequestContext.self)
        let dashboard = dashboard ?? (try? Dashboard(engine: engine, root: engine.root))
        router.add(middleware: BrowserErrorMiddleware())
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: AuthorizationMiddleware(access: engine.access, signer: dashboard?.signer))
        let v1 = router.group("v1")
        v1.get("health") { _, _ in APIResponse.json(["status": "ok", "pid": "\(getpid())"]) }
        v1.post("secrets/sources") { request, context in
            let body = try await APIResponse.decode(SecretSourcesRequest.self, from: request)
            return APIResponse.json(engine.secretSources(body))
        }
        v1.get("status") { request, _ in
            APIResponse.json(try await engine.reports.status(environment: request.uri.queryParameters.get("env")))
        }
        v1.get("releases") { _, _ in APIResponse.json(engine.releaseBuilds.list()) }
        v1.get("traffic") { request, _ in
            guard let env = request.uri.queryParameters.get("env") else { throw SlipwayError.usage("expected ?env=ENVIRONMENT") }
            return APIResponse.json(await engine.reports.traffic(environment: String(env)))
        }
        v1.get("traffic/releases") { request, _ in
            guard let env = request.uri.queryParameters.get("env") else { throw SlipwayError.usage("expected ?env=ENVIRONMENT") }
            return APIResponse.json(await engine.reports.releaseSamples(environment: String(env)))
        }
        v1.post("releases") { request, context in
            let body = try await context.attributed(APIResponse.decode(ReleaseCreateRequest.self, from: request))
            return APIResponse.json(try await engine.releaseBuilds.create(body), status: .created)
        }
        v1.post("deployments") { request, context in
            let body = try await context.attributed(APIResponse.decode(DeployRequest.self, from: request))
            let who = try await context.principal()
            if body.overrideWindow == true, !who.may(.admin) {
                try engine.access.audit(who, action: "policy.override", target: body.environment ?? "", outcome: "refused", detail: "needs the admin role")
                throw SlipwayError.policy("--override-window needs the admin role; \(who.name) has \(who.roles.map(\.rawValue).joined(separator: ", "))")
            }
            return APIResponse.json(try await engine.deployments.startDeployment(body), status: .accepted)
        }
        v1.get("deployments") { request, _ in
            let q = request.uri.queryParameters
            let limit = q.get("limit").flatMap { Int($0) } ?? 50
            return APIResponse.json(try engine.reports.history(environment: q.get("env"), limit: limit))
        }
        v1.get("deployments/:id") { request, context in
            let id = try context.parameters.require("id", as: Int64.self)
            let after = request.uri.queryParameters.get("after").flatMap { Int64($0) } ?? 0
            return APIResponse.json(try engine.reports.progress(id, after: after))
        }
        v1.get("deployments/:id/log") { _, context in
            let id = try context.parameters.require("id", as: Int64.self)
            let info = try engine.reports.progress(id, after: Int64.max).deployment
            let text = (try? String(contentsOfFile: info.logFile, encoding: .utf8)) ?? ""
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        v1.post("scale") { request, context in
            let body = try await context.attributed(APIResponse.decode(ScaleRequest.self, from: request))
            return APIResponse.json(try await engine.scale(body))
        }
        v1.post("maintenance") { request, context in
            let body = try await context.attributed(APIResponse.decode(MaintenanceRequest.self, from: request))
            return APIResponse.json(try await engine.maintenance(body))
        }
        v1.post("router/restart") { request, context in
            let body = try await context.attributed(APIResponse.decode(EnvironmentRequest.self, from: request))
            return APIResponse.json(try await engine.routing.restart(actor: body.by))
        }
        v1.get("accessories") { request, _ in APIResponse.json(try await engine.accessories.list(environment: request.uri.queryParameters.get("env"))) }
        v1.get("accessories/:name/logs") { request, context in
            let q = request.uri.queryParameters
            let text = try await engine.accessories.logs(try context.parameters.require("name"), environment: q.get("env"),
                                                         lines: q.get("lines").flatMap { Int($0) } ?? 100)
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        for action in ["start", "stop", "restart"] {
            v1.post("accessories/:name/\(action)") { request, context in
                let name = try context.parameters.require("name")
                let body = try await context.attributed(APIResponse.decode(EnvironmentRequest.self, from: request))
                switch action {
                case "start": return APIResponse.json(try await engine.accessories.start(name, request: body))
                case "stop": return APIResponse.json(try await engine.accessories.stop(name, request: body))
                default: return APIResponse.json(try await engine.accessories.restart(name, request: body))
                }
            }
        }
        v1.get("locks") { _, _ in APIResponse.json(try engine.reports.locks()) }
        v1.get("certificates") { _, _ in APIResponse.json(try await engine.routing.certificates()) }
        v1.post("acme/challenges") { request, _ in
            try await engine.routing.challenge(try await APIResponse.decode(ChallengeAnswer.self, from: request))
            return APIResponse.json(["status": "ok"])
        }
        v1.put("certificates/:env") { request, context in
            let body = try await APIResponse.decode(CertificateInstall.self, from: request)
            try await engine.routing.installCertificate(environment: try context.parameters.require("env"), body)
            return APIResponse.json(["status": "ok"])
        }
        v1.post("locks/release") { request, context in
            let body = try await context.attributed(APIResponse.decode(EnvironmentRequest.self, from: request))
            let released = try await engine.releaseLock(environment: body.environment, actor: body.by)
            return APIResponse.json(released.map { [$0] } ?? [])
        }
        v1.post("down") { request, context in
            let body = try await context.attributed(APIResponse.decode(DownRequest.self, from: request))
            try await engine.down(environment: body.environment, all: body.all, actor: body.by)
            return APIResponse.json(["status": "ok"])
        }
        v1.get("audit") { request, _ in
            let q = request.uri.queryParameters
            let limit = q.get("limit").flatMap { Int($0) } ?? 100
            var since: Date?
            if let text = q.get("since") {
                guard let d = SlipwayJSON.parseDate(text) else { throw SlipwayError.usage("since: expected an ISO 8601 time like 2026-11-26T10:00:00Z, got '\(text)'") }
                since = d
            }
            return APIResponse.json(try engine.access.auditEntries(limit: limit, environment: q.get("env"), since: since))
        }
        v1.get("audit/verify") { _, _ in APIResponse.json(try engine.access.verifyAudit()) }
        v1.get("gates") { request, context in
            let q = request.uri.queryParameters
            guard let version = q.get("version") else { throw SlipwayError.usage("gates: pass version=VERSION") }
            let op = q.get("operation").flatMap(PolicyRequest.Operation.init(rawValue:)) ?? .deploy
            let actor = try await context.principal()
            return APIResponse.json(try await engine.deployments.gates(environment: q.get("env"), version: version, operation: op, actor: actor))
        }
        v1.post("canary") { request, context in
            let body = try await context.attributed(APIResponse.decode(CanaryRequest.self, from: request))
            return APIResponse.json(try await engine.canaries.command(body))
        }
        v1.get("canary") { request, _ in
            APIResponse.json(try engine.canaries.status(environment: request.uri.queryParameters.get("env")))
        }
        addBackupRoutes(v1, engine: engine)
        addEventRoutes(v1, engine: engine)
        addTokenRoutes(v1, engine: engine)
        addWebhookRoutes(router, engine: engine)
        if let dashboard { addDashboardRoutes(router, engine: engine, dashboard: dashboard, secure: secure) }
        router.get("health/live") { _, _ in APIResponse.json(["status": "live"]) }
        router.get("health/ready") { _, _ in
            // The API answers only after reconcile; ready once the store answers too.
            guard engine.storeAnswers() else { return APIResponse.json(["status": "store unavailable"], status: .serviceUnavailable) }
            return APIResponse.json(["status": "ready"])
        }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: PrometheusText.contentType], body: .init(byteBuffer: ByteBuffer(string: await engine.reports.metricsText())))
        }
        v1.get("alerts") { request, _ in APIResponse.json(try await engine.signals.alerts(environment: request.uri.queryParameters.get("env"))) }
        v1.get("incidents") { request, _ in
            let q = request.uri.queryParameters
            return APIResponse.json(try await engine.signals.incidentList(environment: q.get("env"), openOnly: q.get("open") == "true"))
        }
        v1.get("incidents/:id") { _, context in APIResponse.json(try await engine.signals.incidentDetail(try Self.incidentId(context))) }
        v1.get("incidents/:id/review") { _, context in
            let detail = try await engine.signals.incidentDetail(try Self.incidentId(context))
            return Response(status: .ok, headers: [.contentType: "text/markdown; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: IncidentReview.markdown(detail, now: Date()))))
        }
        v1.post("incidents/:id") { request, context in
            let body = try await context.attributed(APIResponse.decode(IncidentActionRequest.self, from: request))
            return APIResponse.json(try await engine.signals.incidentAction(try Self.incidentId(context), body))
        }
        v1.get("logs/app") { request, _ in
            let q = request.uri.queryParameters
            return APIResponse.json(try engine.reports.appLogs(environment: q.get("env"), release: q.get("release"), type: q.get("type"),
                                                             tail: min(10_000, max(1, q.get("tail").flatMap { Int($0) } ?? 100)), cursor: q.get("cursor")))
        }
        v1.get("report") { request, _ in
            let q = request.uri.queryParameters
            var since: Duration?
            if let text = q.get("since") {
                guard let d = DurationParsing.parse(text) else { throw SlipwayError.usage("--since: expected a duration like 90d or 12h, got '\(text)'") }
                since = d
            }
            return APIResponse.json(try engine.reports.report(environment: q.get("env"), since: since))
        }
        v1.get("notifications") { request, _ in
            APIResponse.json(try engine.notifications.list(limit: request.uri.queryParameters.get("limit").flatMap { Int($0) } ?? 100))
        }
        v1.post("silences") { request, context in
            let body = try await context.attributed(APIResponse.decode(SilenceRequest.self, from: request))
            return APIResponse.json(try await engine.signals.silence(body), status: .created)
        }
        v1.post("approvals") { request, context in
            let body = try await APIResponse.decode(ApprovalRequest.self, from: request)
            let who = try await context.principal()
            return APIResponse.json(try await engine.deployments.decide(body, by: who))
        }
        v1.get("approvals/:id") { _, context in
            APIResponse.json(try engine.approvals.status(try context.parameters.require("id", as: Int64.self)))
        }
        return router
    }

    static func incidentId(_ context: SlipwayRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }) else { throw SlipwayError.usage("expected an incident id (a number)") }
        return id
    }
}
