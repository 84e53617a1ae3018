import Foundation

/// A rule's verdict for one interval, with what it saw.
public enum RuleVerdict: Sendable, Equatable {
    case pass(Evidence)
    case fail(Evidence)
    /// Not enough to decide (too few requests, no baseline, not measured): never a pass or a fail.
    case hold(String)

    public struct Evidence: Sendable, Equatable {
        /// The metric's value (for a counter: its increase over the window).
        public var observed: Double
        /// What it was compared with (the baseline applied).
        public var threshold: Double
        public var baseline: Double?
        /// Requests behind the value, when it is measured over requests.
        public var requests: Int?
        /// For `for D`: how long the condition has held so far.
        public var heldFor: Duration?
    }
}

/// Judges rules interval by interval: a state machine whose only clock is the time passed in, so tests
/// drive hours of analysis instantly. It remembers when each condition became true (`for D`) and the
/// counters' history (`in D`, or since the first observation).
public struct RuleEvaluator: Sendable {
    public let rules: [Rule]
    /// Below this many requests in the window, request-based rules hold.
    public let minRequests: Int
    private var trueSince: [Int: Date] = [:]
    private var history: [Counters] = []
    /// The counters at the first observation: what a counter rule without `in D` counts from.
    private var first: Counters?

    private struct Counters: Sendable {
        var time: Date
        var restarts: Int
        var healthFailures: Int
        func count(_ metric: Rule.Metric) -> Int { metric == .restarts ? restarts : healthFailures }
    }

    /// Latency rules against the baseline ignore differences smaller than this (seconds).
    public static let latencySlack = 0.005

    public init(rules: [Rule], minRequests: Int) {
        self.rules = rules
        self.minRequests = minRequests
    }

    /// One verdict per rule, in the rules' order, for the window ending at `now`.
    public mutating func observe(_ subject: MetricSample, baseline: MetricSample?, at now: Date) -> [RuleVerdict] {
        let counters = Counters(time: now, restarts: subject.restarts, healthFailures: subject.healthFailures)
        if first == nil { first = counters }
        history.append(counters)
        let longest = rules.compactMap(\.window).max() ?? .zero
        // Keep one sample at or before the longest window's start.
        while history.count > 2, now.timeIntervalSince(history[1].time) >= longest.seconds { history.removeFirst() }
        return rules.indices.map { verdict(rules[$0], index: $0, subject, baseline, now) }
    }

    private mutating func verdict(_ rule: Rule, index: Int, _ subject: MetricSample, _ baseline: MetricSample?, _ now: Date) -> RuleVerdict {
        if rule.metric.needsRequests, subject.requests < minRequests {
            trueSince[index] = nil
            return .hold("\(subject.requests) of \(minRequests) requests")
        }
        var base: Double?
        if rule.threshold.needsBaseline {
            guard let baseline, !rule.metric.needsRequests || baseline.requests >= minRequests, let b = baseline.value(of: rule.metric) else {
                trueSince[index] = nil
                return .hold("no baseline with \(minRequests) requests")
            }
            base = b
        }
        let observed: Double
        if rule.metric.isCounter {
            observed = increase(rule, now: now)
        } else {
            guard let v = subject.value(of: rule.metric) else {
                trueSince[index] = nil
                return .hold("\(rule.metric) is not measured")
            }
            observed = v
        }
        let threshold = rule.threshold.value(baseline: base) ?? 0
        var evidence = RuleVerdict.Evidence(observed: observed, threshold: threshold, baseline: base,
                                            requests: rule.metric.needsRequests ? subject.requests : nil)
        // Latency against the baseline: a difference under `latencySlack` is noise (a fresh process's first
        // requests, the histogram's resolution), not a regression, however large the ratio of two tiny figures.
        let noise = rule.metric.isLatency && rule.threshold.needsBaseline && abs(observed - (base ?? observed)) < Self.latencySlack
        guard rule.comparison.holds(observed, threshold), !noise else {
            trueSince[index] = nil
            return .pass(evidence)
        }
        guard let sustained = rule.sustained else { return .fail(evidence) }
        let since = trueSince[index] ?? now
        trueSince[index] = since
        let held = Duration.milliseconds(Int64((now.timeIntervalSince(since) * 1000).rounded()))
        evidence.heldFor = held
        return held >= sustained ? .fail(evidence) : .hold("true for \(DurationParsing.format(held)) of \(DurationParsing.format(sustained))")
    }

    /// A counter's increase over the rule's window (or since the first observation).
    private func increase(_ rule: Rule, now: Date) -> Double {
        guard let latest = history.last, var start = first else { return 0 }
        if let window = rule.window {
            start = history[0]
            for h in history where now.timeIntervalSince(h.time) >= window.seconds { start = h }
        }
        return Double(max(0, latest.count(rule.metric) - start.count(rule.metric)))
    }
}
