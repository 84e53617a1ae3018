import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// `release.git.poll`: for hosts no webhook reaches. Every `every` it fetches `release.git.repo` and, when the branch
/// points at a commit it has not acted on, builds that commit into a release through the webhooks' path
/// (`Releases.fromCommit`) and deploys it to `deploy_to` through every gate. A commit is recorded (as a delivery
/// `git-poll`/COMMIT) before it is built, so it is acted on once, across restarts; one the environment already
/// serves is only recorded. Audited with the commit.
actor GitPoller: FeatureObject {
    nonisolated let context: EngineContext
    let builds: Releases
    let deploy: @Sendable (DeployRequest) async throws(SlipwayError) -> DeploymentInfo
    private var lastPoll: ContinuousClock.Instant?

    init(context: EngineContext, releases: Releases, deploy: @escaping @Sendable (DeployRequest) async throws(SlipwayError) -> DeploymentInfo) {
        self.context = context
        self.builds = releases
        self.deploy = deploy
    }

    static let provider = "git-poll"

    /// The `git-poll` job (every second): a poll when `every` has passed since the last.
    func pass(now: ContinuousClock.Instant = .now) async {
        let cfg = config
        guard let git = cfg.release.git, let poll = git.poll else { return }
        if let lastPoll, now - lastPoll < poll.every { return }
        lastPoll = now
        do { try await check(repo: git.repo, poll: poll, cfg: cfg) } catch {
            logger.error("git poll failed", metadata: ["git.repo": "\(git.repo)", "git.branch": "\(poll.branch)", "error": "\(error.message)"])
        }
    }

    private func check(repo: String, poll: GitPollSettings, cfg: SlipwayConfig) async throws(SlipwayError) {
        let env = try cfg.environment(poll.deployTo)
        let log = "\(cfg.logsDirectory)/git-poll.log"
        let vars = ProcessInfo.processInfo.environment
        // A clone or mirror with an origin fetches; a repository pushed to directly has nothing to fetch.
        if ReleaseStore.capture(["git", "-C", repo, "remote"])?.split(separator: "\n").contains("origin") == true {
            _ = try await ProcessSpawner.run(argv: ["git", "-C", repo, "fetch", "--quiet", "origin"], directory: cfg.root, environment: vars, logFile: log)
        }
        guard let commit = ["refs/remotes/origin/\(poll.branch)", "refs/heads/\(poll.branch)"].lazy
            .compactMap({ ReleaseStore.capture(["git", "-C", repo, "rev-parse", "--verify", "--quiet", "\($0)^{commit}"]) })
            .first(where: { $0.count >= 40 }) else {
            throw .failed("branch \(poll.branch) is not in \(repo)")
        }
        // Acted on already (or being acted on): nothing to do.
        do { try store.webhooks.recordDelivery(provider: Self.provider, id: commit, bodyDigest: "\(poll.branch) \(commit)") } catch { return }
        let actor = Principal.daemon(Self.provider)
        let serving = try? store.environment(env.name).currentRelease
        if let serving, context.releases.info(serving)?.gitCommit == commit {
            try store.webhooks.settleDelivery(provider: Self.provider, id: commit)
            return
        }
        let git = GitProvenance(commit: commit, branch: poll.branch)
        let version = Webhooks.version(git)
        logger.info("git poll found a new commit", metadata: ["git.branch": "\(poll.branch)", "git.commit": "\(commit)", "release.version": "\(version)"])
        do {
            _ = try await builds.fromCommit(git, version: version, actor: actor)
            var request = DeployRequest(version: version, environment: env.name, strategy: nil, kind: .deploy, actor: actor.name)
            request.reason = "git poll: \(poll.branch) at \(commit.prefix(12))"
            let d = try await deploy(request)
            try store.webhooks.settleDelivery(provider: Self.provider, id: commit)
            try store.audit(actor, action: "git.poll", target: "\(poll.branch)@\(commit.prefix(12))", outcome: "ok",
                            detail: "built \(version), deployment \(d.id) to \(env.name)")
        } catch {
            // Not built or not deployed: settled anyway (a broken commit is not rebuilt every poll); the next commit is.
            logger.write("settle git-poll delivery \(commit)", to: store) { () throws(SlipwayError) in
                try store.webhooks.settleDelivery(provider: Self.provider, id: commit)
            }
            store.audit(actor, action: "git.poll", target: "\(poll.branch)@\(commit.prefix(12))", outcome: "failed", detail: error.message, orLog: logger)
            throw error
        }
    }
}
