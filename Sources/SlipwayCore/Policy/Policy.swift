import Foundation

/// What is about to happen, as the policy checks see it.
public struct PolicyRequest: Sendable, Equatable {
    public enum Operation: String, Codable, Sendable { case deploy, rollback, scale, restore }
    public var operation: Operation
    public var environment: String
    public var version: String?
    public var actor: Principal
    /// `--force`: the operator overrides the checks that allow it (a release remembered as bad).
    public var force: Bool
    /// `--override-window --reason`: an admin passes windows and freezes (the reason is audited).
    public var overrideWindow = false
    public init(operation: Operation, environment: String, version: String? = nil, actor: Principal, force: Bool = false) {
        self.operation = operation
        self.environment = environment
        self.version = version
        self.actor = actor
        self.force = force
    }
}

/// What the checks may look at besides the request: gathered once by the engine, read only.
public struct PolicyFacts: Sendable {
    /// The environment's lock, if any.
    public var lock: LockInfo?
    /// A lock with no heartbeat for this long is stale.
    public var lockTTL: TimeInterval
    public var now: Date
    /// Releases of the environment that a watch or an analysis rolled back, with why.
    public var badReleases: [String: String]
    /// The environment's windows and freezes.
    public var governance = GovernanceSettings()
    /// With `promote_from`: the release's record in the source environment.
    public var promotion: PromotionFacts?
    /// The release asked for, with its provenance (nil when it does not exist).
    public var release: ReleaseInfo?
    public init(lock: LockInfo?, lockTTL: TimeInterval, now: Date, badReleases: [String: String] = [:]) {
        self.lock = lock
        self.lockTTL = lockTTL
        self.now = now
        self.badReleases = badReleases
    }
}

/// A refusal: which rule, why, and when it would pass (if that is known).
public struct PolicyRefusal: Codable, Sendable, Equatable {
    public var rule: String
    public var reason: String
    public var passesAt: Date?
    public init(rule: String, reason: String, passesAt: Date? = nil) {
        self.rule = rule
        self.reason = reason
        self.passesAt = passesAt
    }
    enum CodingKeys: String, CodingKey { case rule, reason, passesAt = "passes_at" }
}

public enum PolicyDecision: Sendable, Equatable {
    case allow
    case refuse(PolicyRefusal)
}

/// One rule. Pure: a decision from the request and the facts, nothing else (the clock is `facts.now`).
public protocol PolicyCheck: Sendable {
    var rule: String { get }
    func evaluate(_ request: PolicyRequest, _ facts: PolicyFacts) -> PolicyDecision
}

/// The ordered checks run before a deployment, rollback, scale or restore starts; the first refusal wins.
/// Today: the lock, freezes, windows and releases remembered as bad. Approvals and promotion gates are added
/// here as new checks.
public struct Policy: Sendable {
    public var checks: [any PolicyCheck]
    public init(checks: [any PolicyCheck] = [LockCheck(), FreezeCheck(), WindowCheck(), PromotionCheck(), BranchCheck(), BadReleaseCheck()]) { self.checks = checks }

    /// Every check's decision, in order (for `slipway gates`).
    public func evaluateAll(_ request: PolicyRequest, _ facts: PolicyFacts) -> [(rule: String, decision: PolicyDecision)] {
        checks.map { ($0.rule, $0.evaluate(request, facts)) }
    }

    public func evaluate(_ request: PolicyRequest, _ facts: PolicyFacts) -> PolicyDecision {
        for check in checks {
            if case .refuse(let why) = check.evaluate(request, facts) { return .refuse(why) }
        }
        return .allow
    }
}
