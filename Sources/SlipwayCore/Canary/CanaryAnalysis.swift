import Foundation

/// One interval's analysis of a canary, kept on the environment for `slipway canary status` and put in the
/// event of every decision: what each release did, each rule's verdict with its evidence, and what follows.
public struct CanaryAnalysis: Codable, Sendable, Equatable {
    public var time: Date
    /// Since the canary started: requests and failures of the canary and of the stable release.
    public var canary: RequestCounts
    public var stable: RequestCounts
    /// The window the latency and absolute rules looked at ("10s", "1m", "5m"), with each release's p99 there.
    public var window: String?
    public var canaryP99Ms: Double?
    public var stableP99Ms: Double?
    public var verdicts: [RuleOutcome]
    public var decision: Decision
    public var detail: String
    /// Seconds until the step has enough requests at the observed rate (while traffic is insufficient).
    public var etaSeconds: Double?

    public init(time: Date, canary: RequestCounts, stable: RequestCounts, window: String? = nil, canaryP99Ms: Double? = nil,
                stableP99Ms: Double? = nil, verdicts: [RuleOutcome] = [], decision: Decision, detail: String, etaSeconds: Double? = nil) {
        self.time = time
        self.canary = canary
        self.stable = stable
        self.window = window
        self.canaryP99Ms = canaryP99Ms
        self.stableP99Ms = stableP99Ms
        self.verdicts = verdicts
        self.decision = decision
        self.detail = detail
        self.etaSeconds = etaSeconds
    }

    /// What followed the interval, spelled in JSON as before: `advance`, `hold` (evidence still coming),
    /// `pause` (the step's pause is not over), `wait` (a manual step waits for `canary promote`), `fail`
    /// (reverted; also when a step ran out of time for evidence).
    public enum Decision: String, Codable, Sendable, Equatable {
        case advance, hold, pause, wait, fail
    }

    enum CodingKeys: String, CodingKey {
        case time, canary, stable, window, verdicts, decision, detail
        case canaryP99Ms = "canary_p99_ms", stableP99Ms = "stable_p99_ms", etaSeconds = "eta_seconds"
    }
}

/// A rule's verdict in one interval: `pass`, `fail` or `hold`, with what was observed.
public struct RuleOutcome: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable, Equatable { case pass, fail, hold }

    public var rule: String
    public var verdict: Verdict
    public var detail: String
    public var observed: Double?
    public var threshold: Double?
    public var baseline: Double?
    /// The canary's requests behind the value.
    public var requests: Int?
    /// For the sequential test: its log-likelihood ratio now, the bounds at which it fails and passes, and
    /// `confidence`, the posterior probability that the canary fails more often than the rule allows, from
    /// `llr` at even prior odds (1 / (1 + e^−llr)): a measurement of this interval, not a setting.
    public var llr: Double?
    public var llrFailAt: Double?
    public var llrPassAt: Double?
    public var confidence: Double?

    public init(rule: String, verdict: Verdict, detail: String, observed: Double? = nil, threshold: Double? = nil, baseline: Double? = nil,
                requests: Int? = nil) {
        self.rule = rule
        self.verdict = verdict
        self.detail = detail
        self.observed = observed
        self.threshold = threshold
        self.baseline = baseline
        self.requests = requests
    }

    enum CodingKeys: String, CodingKey {
        case rule, verdict, detail, observed, threshold, baseline, requests, llr, confidence
        case llrFailAt = "llr_fail_at", llrPassAt = "llr_pass_at"
    }
}
