import Foundation
import Hummingbird
import SlipwayCore
import SlipwayEngine

extension APIRoutes {
    /// `POST /hooks/github`, `POST /hooks/gitlab`: authenticated by the provider's signature (not a token).
    /// A wrong or missing signature is 401 and creates nothing; a delivery seen before is 409.
    static func addWebhookRoutes(_ router: Router<SlipwayRequestContext>, engine: Engine) {
        router.post("hooks/:provider") { request, context in
            guard let name = context.parameters.get("provider"), let provider = WebhookSettings.Provider(rawValue: name) else {
                throw SlipwayError.notFound("no such webhook; POST /hooks/github or /hooks/gitlab")
            }
            let bytes = Array(try await request.body.collect(upTo: 5 << 20).readableBytesView)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let source = context.channel?.remoteAddress?.ipAddress ?? "the admin socket"
            let hooks = try await engine.webhooks.verified(provider, headers: headers, body: bytes)
            guard !hooks.isEmpty else {
                try engine.access.audit(Principal.daemon("webhook:\(name)"), action: "webhook", target: name, outcome: "refused",
                                   detail: "bad or missing signature from \(source)")
                return APIResponse.json(ErrorBody(error: .policy("the request is not signed with a configured \(name) webhook secret")), status: .unauthorized)
            }
            let delivery = try WebhookDelivery(provider: provider, headers: headers, body: bytes)
            // Signed by a configured secret: it may build and deploy (every gate still applies), and nothing else.
            var origin = RequestOrigin.current
            origin?.roles = [.deployer]
            let result = try await RequestOrigin.$current.withValue(origin) {
                try await engine.webhooks.handle(delivery, hooks: hooks, body: bytes, source: source)
            }
            // Created when a deployment started; accepted while the build goes on past the hook's answer_within; when
            // every matching hook failed, the provider shows the delivery as failed.
            if result.actions.contains(where: { $0.deploymentId != nil }) { return APIResponse.json(result, status: .created) }
            if let error = result.actions.first?.error { return APIResponse.json(result, status: APIResponse.status(error.code)) }
            if !result.actions.isEmpty { return APIResponse.json(result, status: .accepted) }
            return APIResponse.json(result)
        }
    }
}
