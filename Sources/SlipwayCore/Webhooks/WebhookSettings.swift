/// `webhooks:` entries: a provider's push or tag event builds a release from that commit and deploys it.
public struct WebhookSettings: Sendable, Equatable {
    public enum Provider: String, Sendable, Codable, CaseIterable {
        case github, gitlab
    }

    /// `on: { push: main }` (branch pushes) or `on: { tag: "v*" }` (tags); each takes one pattern or a list.
    public enum Trigger: Sendable, Equatable {
        case push([GlobPattern])
        case tag([GlobPattern])
    }

    public var provider: Provider
    /// The name of the secret (in the root's secrets files or the daemon's environment), never its value.
    public var secret: String
    public var on: Trigger
    public var deployTo: String
    /// How long the answer waits for the build and the deployment's start (the provider gives up after 10 s);
    /// after that it is 202 and the work goes on.
    public var answerWithin: Duration

    public static let defaultAnswerWithin: Duration = .seconds(8)

    public init(provider: Provider, secret: String, on: Trigger, deployTo: String, answerWithin: Duration = defaultAnswerWithin) {
        self.provider = provider
        self.secret = secret
        self.on = on
        self.deployTo = deployTo
        self.answerWithin = answerWithin
    }

    /// Whether a push of `ref` (`refs/heads/…` or `refs/tags/…`) is one this hook acts on.
    public func matches(ref: String) -> Bool {
        switch on {
        case .push(let patterns):
            guard ref.hasPrefix("refs/heads/") else { return false }
            let branch = String(ref.dropFirst("refs/heads/".count))
            return patterns.contains { $0.matches(branch) }
        case .tag(let patterns):
            guard ref.hasPrefix("refs/tags/") else { return false }
            let tag = String(ref.dropFirst("refs/tags/".count))
            return patterns.contains { $0.matches(tag) }
        }
    }
}

/// `release.git`: the repository webhooks build releases from (a bare mirror or a clone on this host).
public struct GitSourceSettings: Sendable, Equatable {
    public var repo: String
    /// `release.git.poll`: the daemon looks for a new commit itself (hosts no webhook can reach).
    public var poll: GitPollSettings?
    public init(repo: String, poll: GitPollSettings? = nil) {
        self.repo = repo
        self.poll = poll
    }
}

/// `release.git.poll: { every, branch, deploy_to }`: every `every`, fetch the repository and, when `branch` points at
/// a commit not seen before, build it into a release and deploy it to `deploy_to`, as a webhook would.
public struct GitPollSettings: Sendable, Equatable {
    public var every: Duration
    public var branch: String
    /// nil: the only environment, or production.
    public var deployTo: String?
    public init(every: Duration = .seconds(300), branch: String = "main", deployTo: String? = nil) {
        self.every = every
        self.branch = branch
        self.deployTo = deployTo
    }
}
