import Foundation

/// What the post-deploy watch sees of the serving release at one moment.
public struct WatchSample: Sendable, Equatable {
    /// Router counters for the release's pool since the router started: requests, and 5xx or upstream errors.
    public var requests: Int
    public var errors: Int
    /// Restarts of the release's instances (summed); instances of it that are ready; instances of it.
    public var restarts: Int
    public var ready: Int
    public var instances: Int
    /// The last window's figures for the analysis rules (nil when the router had none).
    public var window: MetricSample?
    /// What `analysis.providers` said this interval.
    public var providers: [ProviderReading] = []

    public init(requests: Int, errors: Int, restarts: Int, ready: Int, instances: Int, window: MetricSample? = nil) {
        self.requests = requests
        self.errors = errors
        self.restarts = restarts
        self.ready = ready
        self.instances = instances
        self.window = window
    }
}

/// The post-deploy watch's decision, a state machine fed one sample per interval with the time passed in.
/// Hard signals need no configuration: a burst of 5xx (at least `burstRequests` requests in one interval,
/// at least `burstShare` of them failed), a crash loop (two restarts since the switch), or no ready
/// instance for three intervals in a row. With `analysis` rules, a failing rule also decides.
public struct WatchJudge: Sendable {
    public static let burstRequests = 20
    public static let burstShare = 0.5
    var previous: WatchSample?
    var firstRestarts: Int?
    var unreadyIntervals = 0
    var rules: RuleEvaluator?
    var providers: [ProviderSettings] = []

    public init(analysis: AnalysisSettings?) {
        if let analysis, !analysis.rules.isEmpty { rules = RuleEvaluator(rules: analysis.rules, minRequests: analysis.minRequests) }
        providers = analysis?.providers ?? []
    }

    /// Nil while all is well; otherwise why the release must be rolled back.
    public mutating func observe(_ s: WatchSample, at now: Date) -> String? {
        defer { previous = s }
        let startRestarts = firstRestarts ?? s.restarts
        firstRestarts = startRestarts
        if let p = previous {
            let requests = s.requests - p.requests, errors = s.errors - p.errors
            if requests >= Self.burstRequests, Double(errors) >= Self.burstShare * Double(requests) {
                return "a burst of errors: \(errors) of \(requests) requests failed in one interval"
            }
        }
        if s.restarts - startRestarts >= 2 { return "a crash loop: \(s.restarts - startRestarts) restarts since the switch" }
        unreadyIntervals = s.instances > 0 && s.ready == 0 ? unreadyIntervals + 1 : 0
        if unreadyIntervals >= 3 { return "no instance has been ready for \(unreadyIntervals) intervals" }
        if var evaluator = rules, let window = s.window {
            let verdicts = evaluator.observe(window, baseline: nil, at: now)
            rules = evaluator
            for (rule, verdict) in zip(evaluator.rules, verdicts) {
                if case .fail(let e) = verdict { return "\(rule.text): observed \(Self.format(e.observed)) against \(Self.format(e.threshold))" }
            }
        }
        for (settings, reading) in zip(providers, s.providers) {
            let out = reading.outcome(settings)
            if out.verdict == .fail { return "\(out.rule): \(out.detail)" }
        }
        return nil
    }

    static func format(_ v: Double) -> String { String(format: "%.4g", v) }
}
