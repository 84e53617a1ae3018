import Foundation

/// Requests and failed requests (5xx or failed upstream) of one release, counted since the analysis began.
public struct RequestCounts: Sendable, Equatable, Codable {
    public var requests: Int
    public var errors: Int
    public init(requests: Int = 0, errors: Int = 0) {
        self.requests = requests
        self.errors = errors
    }
    public var rate: Double? { requests > 0 ? Double(errors) / Double(requests) : nil }

    /// A router's counts since `base`; a router that restarted (counters lower than the base) counts from zero.
    public func since(_ base: RequestCounts) -> RequestCounts {
        guard requests >= base.requests, errors >= base.errors else { return self }
        return RequestCounts(requests: requests - base.requests, errors: errors - base.errors)
    }
}

/// The sequential test behind `error_rate > baseline + m` (or `> k * baseline`): Wald's SPRT of the
/// canary's error rate, H0 "the canary fails as often as the baseline" (p0, estimated from the baseline's
/// requests over the same time) against H1 "it fails at the rule's threshold" (p1 = p0 + m, or k·p0).
///
/// The log-likelihood ratio grows with each canary failure and shrinks with each success; it is checked
/// every interval and stays valid however often it is checked. It fails at log((1−β)/α) and is floored at
/// log(β/(1−α)) (reaching the floor is the evidence a step needs to pass; the floor keeps a long good run
/// from hiding a later regression). α = 0.002 and β = 0.05: on identical releases fewer than 1% of
/// canaries fail; a canary 2 points worse than a 0.1% baseline fails within 500 of its requests in 96%
/// of runs (see docs/PERFORMANCE.md for other baselines).
public struct ErrorRateTest: Sendable, Equatable {
    public static let alpha = 0.002
    public static let beta = 0.05
    /// p0 never goes below this: a baseline with no failure yet does not make one canary failure decisive.
    public static let floor = 0.0005
    public static let upper = log((1 - beta) / alpha)
    public static let lower = log(beta / (1 - alpha))

    /// What the test has seen: persisted with the canary's step, so a daemon restart resumes the test
    /// where it stood instead of forgetting its evidence or counting the totals again.
    public struct State: Codable, Sendable, Equatable {
        public var llr = 0.0
        /// The canary's requests since the test last stood at its floor (it looked like the baseline then):
        /// the requests behind a failure, when a regression begins after a good start.
        public var recent = RequestCounts()
        public var seenCanary = RequestCounts()
        public var seenBaseline = RequestCounts()
        public var started = false
        enum CodingKeys: String, CodingKey {
            case llr, recent, started
            case seenCanary = "seen_canary", seenBaseline = "seen_baseline"
        }
    }

    public let threshold: Rule.Threshold
    /// Everything the test has seen (read it to save it; set it to resume).
    public var state = State()
    public var llr: Double { state.llr }
    public var recent: RequestCounts { state.recent }

    public init(threshold: Rule.Threshold) { self.threshold = threshold }

    /// The posterior probability of H1 (the canary fails at the rule's threshold) given what the test saw,
    /// at even prior odds: 1 / (1 + e^−llr). 0.5 before any evidence; above 0.99 when it fails.
    public var posterior: Double { 1 / (1 + exp(-llr)) }

    public enum Outcome: Sendable, Equatable {
        /// The canary fails more often than the rule allows, with confidence 1 − α.
        case fail
        /// At the floor: the canary is no worse than the threshold, as far as the test can tell.
        case accepted
        /// Still collecting evidence.
        case open
    }

    /// H0's rate from the baseline's counts (Jeffreys' estimate, floored) and H1's from the rule.
    public func rates(baseline: RequestCounts) -> (p0: Double, p1: Double) {
        let p0 = max(Self.floor, (Double(baseline.errors) + 0.5) / (Double(baseline.requests) + 1))
        var p1 = threshold.value(baseline: p0) ?? p0
        // A rule with no margin (`baseline + 0`) still needs an alternative to test against.
        if p1 < p0 + 0.001 { p1 = p0 + 0.001 }
        return (p0, min(p1, 0.999))
    }

    /// Feeds the counts since the analysis began; only what changed since the last call counts.
    /// Counts that went down (the router restarted) start a new base without evidence either way.
    public mutating func observe(canary: RequestCounts, baseline: RequestCounts) -> Outcome {
        if !state.started || canary.requests < state.seenCanary.requests || canary.errors < state.seenCanary.errors {
            state.started = true
            state.seenCanary = RequestCounts()
        }
        let n = canary.requests - state.seenCanary.requests, e = canary.errors - state.seenCanary.errors
        state.seenCanary = canary
        state.seenBaseline = baseline
        let (p0, p1) = rates(baseline: baseline)
        state.llr += Double(e) * log(p1 / p0) + Double(max(0, n - e)) * log((1 - p1) / (1 - p0))
        state.recent.requests += n
        state.recent.errors += e
        if state.llr >= Self.upper { return .fail }
        if state.llr <= Self.lower {
            state.llr = Self.lower
            state.recent = RequestCounts()
            return .accepted
        }
        return .open
    }
}
