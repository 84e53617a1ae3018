import Foundation

/// A canary in progress, persisted on its environment at every step: a daemon restart resumes it at the
/// same step with the same weights (or aborts it, if the canary died meanwhile).
public struct CanaryInfo: Codable, Sendable, Equatable {
    public var deploymentId: Int64
    /// The canary's release, and the stable one serving beside it.
    public var release: String
    public var stable: String
    /// The step in progress (0-based) of `steps`, and the canary's weight in it.
    public var step: Int
    public var steps: Int
    public var weight: Int
    /// `5% → 25% (2m) → 50% → 50% (manual) → 100%`.
    public var plan: String
    public var startedAt: Date
    public var stepStartedAt: Date
    /// The router's counters of both pools when the canary started: analysis counts from them.
    public var baseCanary: RequestCounts
    public var baseStable: RequestCounts
    /// A `slipway canary promote|abort` not acted on yet.
    public var command: CanaryCommand?
    /// The last interval's analysis.
    public var last: CanaryAnalysis?

    public init(deploymentId: Int64, release: String, stable: String, step: Int, steps: Int, weight: Int, plan: String, startedAt: Date,
                baseCanary: RequestCounts, baseStable: RequestCounts) {
        self.deploymentId = deploymentId
        self.release = release
        self.stable = stable
        self.step = step
        self.steps = steps
        self.weight = weight
        self.plan = plan
        self.startedAt = startedAt
        self.stepStartedAt = startedAt
        self.baseCanary = baseCanary
        self.baseStable = baseStable
    }

    enum CodingKeys: String, CodingKey {
        case release, stable, step, steps, weight, plan, command, last
        case deploymentId = "deployment_id", startedAt = "started_at", stepStartedAt = "step_started_at"
        case baseCanary = "base_canary", baseStable = "base_stable"
    }
}

public struct CanaryCommand: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable {
        /// The next step (after the last one: 100%).
        case promote
        /// Straight to 100%.
        case promoteFull = "promote_full"
        /// Traffic back to the stable release, the canary stopped.
        case abort
    }
    public var action: Action
    public var actor: String
    public var reason: String?
    public init(action: Action, actor: String, reason: String? = nil) {
        self.action = action
        self.actor = actor
        self.reason = reason
    }
}

/// `slipway canary status`: the canary in progress (nil when none), the environment's configuration of
/// it, and every decision of the latest canary deployment, with its evidence.
public struct CanaryStatus: Codable, Sendable, Equatable {
    public var environment: String
    public var canary: CanaryInfo?
    public var deploymentId: Int64?
    public var sticky: StickyRouting?
    public var decisions: [Event]
    /// The unrouted process types: they stay on the stable release until the canary is promoted.
    public var processTypes: [String]?
    public init(environment: String, canary: CanaryInfo?, deploymentId: Int64?, sticky: StickyRouting?, decisions: [Event]) {
        self.environment = environment
        self.canary = canary
        self.deploymentId = deploymentId
        self.sticky = sticky
        self.decisions = decisions
    }
    enum CodingKeys: String, CodingKey {
        case environment, canary, sticky, decisions
        case deploymentId = "deployment_id", processTypes = "process_types"
    }
}
