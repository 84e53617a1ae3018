import Crypto
import Foundation
import SlipwayBackup
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Engine {
    /// The configured hooks of `provider` whose secret signs this request (empty: refuse with 401, create nothing).
    public func verifiedWebhooks(_ provider: WebhookSettings.Provider, headers: [String: String], body: [UInt8]) async throws(SlipwayError) -> [WebhookSettings] {
        let cfg = try await reloadConfig()
        let hooks = cfg.webhooks.filter { $0.provider == provider }
        guard !hooks.isEmpty else { throw .notFound("no \(provider.rawValue) webhook is configured in \(cfg.file)") }
        let secrets = Secrets(root: cfg.root)
        return hooks.filter { hook in
            guard let secret = try? secrets.resolve([hook.secret], environment: hook.deployTo)[hook.secret] else {
                logger.warning("webhook secret is not set", metadata: ["webhook.secret": "\(hook.secret)", "webhook.deploy_to": "\(hook.deployTo)"])
                return false
            }
            return WebhookSignature.verify(provider, secret: secret, headers: headers, body: body)
        }
    }

    /// A verified delivery: recorded first (a replay is refused), then every matching hook builds the commit
    /// into a release and deploys it to its environment through every gate. One that started no deployment
    /// is forgotten again, so the provider's "redeliver" retries it.
    public func handleWebhook(_ delivery: WebhookDelivery, hooks: [WebhookSettings], body: [UInt8], source: String) async throws(SlipwayError) -> WebhookResult {
        let actor = Principal.daemon("webhook:\(delivery.provider.rawValue)")
        let digest = Hex.string(SHA256.hash(data: body))
        do { try store.recordDelivery(provider: delivery.provider.rawValue, id: delivery.id, bodyDigest: digest) } catch {
            store.audit(actor, action: "webhook", target: delivery.provider.rawValue, outcome: "refused", detail: "\(error.message) (from \(source))")
            throw error
        }
        guard case .ref(let ref, let commit) = delivery.event else {
            let outcome = delivery.event == .ping ? "ping" : "ignored: \(String(describing: delivery.event))"
            return WebhookResult(delivery: delivery.id, outcome: outcome)
        }
        let matched = hooks.filter { $0.matches(ref: ref) }
        guard !matched.isEmpty else {
            return WebhookResult(delivery: delivery.id, ref: ref, commit: commit, outcome: "ignored: no webhook acts on \(ref)")
        }
        store.audit(actor, action: "webhook", target: delivery.provider.rawValue, outcome: "accepted",
                    detail: "delivery \(delivery.id): \(ref) at \(commit) from \(source); deploys to \(matched.map(\.deployTo).joined(separator: ", "))")
        var actions: [WebhookResult.Action] = []
        let git = GitProvenance(commit: commit, ref: ref)
        let version = Self.webhookVersion(git)
        var built: SlipwayError?? = nil
        for hook in matched {
            if built == nil {
                do {
                    _ = try await releaseFromCommit(git, version: version, actor: actor)
                    built = .some(nil)
                } catch { built = .some(error) }
            }
            if case .some(.some(let error)) = built {
                actions.append(.init(deployTo: hook.deployTo, version: version, error: error))
                continue
            }
            do {
                var request = DeployRequest(version: version, environment: hook.deployTo, strategy: nil, kind: .deploy, actor: actor.name)
                request.reason = "\(delivery.provider.rawValue) \(ref) at \(commit.prefix(12)), delivery \(delivery.id)"
                let d = try await startDeployment(request)
                actions.append(.init(deployTo: hook.deployTo, version: version, deploymentId: d.id, state: d.state))
            } catch {
                actions.append(.init(deployTo: hook.deployTo, version: version, error: error))
            }
        }
        if !actions.contains(where: { $0.deploymentId != nil }) {
            store.forgetDelivery(provider: delivery.provider.rawValue, id: delivery.id)
            store.audit(actor, action: "webhook", target: delivery.provider.rawValue, outcome: "failed",
                        detail: "delivery \(delivery.id): " + actions.compactMap { $0.error.map { "\($0.message)" } }.joined(separator: "; "))
        }
        return WebhookResult(delivery: delivery.id, ref: ref, commit: commit, outcome: "matched \(matched.count) webhook(s)", actions: actions)
    }

    /// A tag names its release (`v1.4.0`); a branch push gets `main-1a2b3c4d5e6f`. Characters a release
    /// name cannot hold become `-`.
    static func webhookVersion(_ git: GitProvenance) -> String {
        let base = git.tag ?? "\(git.branch ?? "commit")-\(git.commit.prefix(12))"
        var name = String(base.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-+".contains($0)) ? $0 : "-" }.prefix(128))
        while name.hasPrefix(".") || name.hasPrefix("-") { name.removeFirst() }
        return name.isEmpty ? "commit-\(git.commit.prefix(12))" : name
    }
}
