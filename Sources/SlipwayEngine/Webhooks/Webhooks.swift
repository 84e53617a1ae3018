import Crypto
import Foundation
import SlipwayBackup
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// Webhooks from GitHub and GitLab: a delivery is verified, recorded before anything acts on it (a replay is
/// refused), and becomes a `WebhookJob` that `WebhookService` runs: the commit built once into a release, then
/// a deployment per matching hook through every gate. It owns the `webhook_deliveries` table and its queue;
/// the deployments it starts are the engine's (`WebhookService` passes `Engine.startDeployment` in).
public struct Webhooks: Sendable, FeatureObject {
    let context: EngineContext
    let releases: Releases
    /// Accepted deliveries, built and deployed by `WebhookService`.
    let runs = WorkQueue<WebhookJob>()

    /// The configured hooks of `provider` whose secret signs this request (empty: refuse with 401, create nothing).
    public func verified(_ provider: WebhookSettings.Provider, headers: [String: String], body: [UInt8]) async throws(SlipwayError) -> [WebhookSettings] {
        let cfg = try await context.reloadConfig()
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
    /// into a release and deploys it to its environment through every gate, as a `WebhookJob` run by
    /// `WebhookService`. The answer waits for that up to the hooks' `answer_within`; after that it says the build
    /// goes on (no deployment id yet). A job that started no deployment forgets the delivery again, so the
    /// provider's "redeliver" retries it.
    public func handle(_ delivery: WebhookDelivery, hooks: [WebhookSettings], body: [UInt8], source: String) async throws(SlipwayError) -> WebhookResult {
        let actor = Principal.daemon("webhook:\(delivery.provider.rawValue)")
        let digest = Hex.string(SHA256.hash(data: body))
        do { try store.webhooks.recordDelivery(provider: delivery.provider.rawValue, id: delivery.id, bodyDigest: digest) } catch {
            try store.audit(actor, action: "webhook", target: delivery.provider.rawValue, outcome: "refused", detail: "\(error.message) (from \(source))")
            throw error
        }
        // Answered without a build: settled at once (a replay stays refused, even if a later hook would act on it).
        guard case .ref(let ref, let commit) = delivery.event else {
            try store.webhooks.settleDelivery(provider: delivery.provider.rawValue, id: delivery.id)
            let outcome = delivery.event == .ping ? "ping" : "ignored: \(String(describing: delivery.event))"
            return WebhookResult(delivery: delivery.id, outcome: outcome)
        }
        let matched = hooks.filter { $0.matches(ref: ref) }
        guard !matched.isEmpty else {
            try store.webhooks.settleDelivery(provider: delivery.provider.rawValue, id: delivery.id)
            return WebhookResult(delivery: delivery.id, ref: ref, commit: commit, outcome: "ignored: no webhook acts on \(ref)")
        }
        try store.audit(actor, action: "webhook", target: delivery.provider.rawValue, outcome: "accepted",
                    detail: "delivery \(delivery.id): \(ref) at \(commit) from \(source); deploys to \(matched.map(\.deployTo).joined(separator: ", "))")
        let git = GitProvenance(commit: commit, ref: ref)
        let version = Self.version(git)
        let (answers, done) = AsyncStream<WebhookResult?>.makeStream()
        let job = WebhookJob(delivery: delivery, ref: ref, commit: commit, git: git, version: version, hooks: matched, done: done)
        guard runs.submit(job) else {
            logger.write("forget webhook delivery \(delivery.id)", to: store) { () throws(SlipwayError) in
                try store.webhooks.forgetDelivery(provider: delivery.provider.rawValue, id: delivery.id)
            }
            throw SlipwayError(.unavailable, "the daemon is stopping; redeliver once it is back")
        }
        let wait = matched.map(\.answerWithin).min() ?? WebhookSettings.defaultAnswerWithin
        let timer = Task { try? await Task.sleep(for: wait); done.yield(nil) }
        defer { timer.cancel() }
        for await answer in answers {
            if let answer { return answer }
            break
        }
        return WebhookResult(delivery: delivery.id, ref: ref, commit: commit,
                             outcome: "building \(version): it takes longer than \(DurationParsing.human(wait)); follow it with slipway events",
                             actions: matched.map { .init(deployTo: $0.deployTo, version: version) })
    }

    /// Builds the job's commit once, deploys it to each hook's environment, and forgets the delivery when no
    /// deployment started.
    func run(_ job: WebhookJob, deploy: (DeployRequest) async throws(SlipwayError) -> DeploymentInfo) async -> WebhookResult {
        let actor = Principal.daemon("webhook:\(job.delivery.provider.rawValue)")
        var actions: [WebhookResult.Action] = []
        var built: SlipwayError?? = nil
        for hook in job.hooks {
            if Task.isCancelled, built == nil {
                built = .some(SlipwayError(.unavailable, "the daemon stopped before the build of \(job.version) ended; redeliver once it is back"))
            }
            if built == nil {
                do {
                    _ = try await releases.fromCommit(job.git, version: job.version, actor: actor)
                    built = .some(nil)
                } catch { built = .some(error) }
            }
            if case .some(.some(let error)) = built {
                actions.append(.init(deployTo: hook.deployTo, version: job.version, error: error))
                continue
            }
            do {
                var request = DeployRequest(version: job.version, environment: hook.deployTo, strategy: nil, kind: .deploy, actor: actor.name)
                request.reason = "\(job.delivery.provider.rawValue) \(job.ref) at \(job.commit.prefix(12)), delivery \(job.delivery.id)"
                let d = try await deploy(request)
                actions.append(.init(deployTo: hook.deployTo, version: job.version, deploymentId: d.id, state: d.state))
            } catch {
                actions.append(.init(deployTo: hook.deployTo, version: job.version, error: error))
            }
        }
        if actions.contains(where: { $0.deploymentId != nil }) {
            do { try store.webhooks.settleDelivery(provider: job.delivery.provider.rawValue, id: job.delivery.id) } catch {
                logger.warning("webhook delivery not marked settled", metadata: ["webhook.delivery": "\(job.delivery.id)", "error": "\(error)"])
            }
        } else {
            logger.write("forget webhook delivery \(job.delivery.id)", to: store) { () throws(SlipwayError) in
                try store.webhooks.forgetDelivery(provider: job.delivery.provider.rawValue, id: job.delivery.id)
            }
            store.audit(actor, action: "webhook", target: job.delivery.provider.rawValue, outcome: "failed",
                        detail: "delivery \(job.delivery.id): " + actions.compactMap { $0.error.map { "\($0.message)" } }.joined(separator: "; "),
                        orLog: logger)
        }
        return WebhookResult(delivery: job.delivery.id, ref: job.ref, commit: job.commit, outcome: "matched \(job.hooks.count) webhook(s)", actions: actions)
    }

    /// A tag names its release (`v1.4.0`); a branch push gets `main-1a2b3c4d5e6f`. Characters a release
    /// name cannot hold become `-`.
    static func version(_ git: GitProvenance) -> String {
        let base = git.tag ?? "\(git.branch ?? "commit")-\(git.commit.prefix(12))"
        var name = String(base.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-+".contains($0)) ? $0 : "-" }.prefix(128))
        while name.hasPrefix(".") || name.hasPrefix("-") { name.removeFirst() }
        return name.isEmpty ? "commit-\(git.commit.prefix(12))" : name
    }

    /// At every start: the deliveries whose build the last daemon did not finish are forgotten, so a
    /// redelivery builds them.
    func reconcile() throws(SlipwayError) {
        let interrupted = try store.webhooks.forgetUnsettledDeliveries()
        guard !interrupted.isEmpty else { return }
        logger.warning("forgot webhook deliveries whose build the last daemon did not finish", metadata: ["webhook.deliveries": "\(interrupted)"])
        try store.audit(.daemon("webhook"), action: "webhook", target: "reconcile", outcome: "forgotten",
                        detail: "\(interrupted.joined(separator: ", ")): the daemon stopped during the build; a redelivery builds it")
    }
}
