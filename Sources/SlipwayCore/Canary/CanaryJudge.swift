import Foundation

/// What the canary analysis sees at one interval: counts since the canary started, the router's sliding
/// windows for both releases, and the canary's instances.
public struct CanaryObservation: Sendable, Equatable {
    public var canary: RequestCounts
    public var stable: RequestCounts
    /// The router's windows, shortest first ("10s", "1m", "5m").
    public var windows: [CanaryWindow]
    public var instances: Int
    /// Canary instances whose process runs, and that answer readiness.
    public var alive: Int
    public var ready: Int
    /// Restarts of the canary's instances (summed).
    public var restarts: Int
    /// Connections to the canary that were refused or failed, since it started.
    public var upstreamErrors: Int
    /// What `analysis.providers` said this interval, in their order.
    public var providers: [ProviderReading] = []

    public init(canary: RequestCounts, stable: RequestCounts, windows: [CanaryWindow] = [], instances: Int = 1, alive: Int = 1, ready: Int = 1,
                restarts: Int = 0, upstreamErrors: Int = 0) {
        self.canary = canary
        self.stable = stable
        self.windows = windows
        self.instances = instances
        self.alive = alive
        self.ready = ready
        self.restarts = restarts
        self.upstreamErrors = upstreamErrors
    }
}

public struct CanaryWindow: Sendable, Equatable {
    public var name: String
    public var canary: MetricSample
    public var stable: MetricSample
    public init(name: String, canary: MetricSample, stable: MetricSample) {
        self.name = name
        self.canary = canary
        self.stable = stable
    }
}

public enum CanaryDecision: Sendable, Equatable {
    /// Revert: traffic back to the stable release, the canary stopped, the release remembered as bad.
    case fail(String)
    /// Revert without blaming the release: a step had too little traffic or evidence by `max_step_duration`.
    case inconclusive(String)
    /// The step has its evidence and its pause is over.
    case advance(String)
    /// Keep the step: not enough evidence yet, or its pause is not over.
    case hold(String)
    /// A manual step: wait for `slipway canary promote`.
    case wait(String)
}

/// Decides a canary interval by interval, with the time passed in (tests drive it with synthetic streams).
/// Fast signals first (the canary's process gone, readiness failing, restarts, refused connections, a
/// burst of 5xx), then the analysis rules: `error_rate` against the baseline through the sequential
/// `ErrorRateTest` on all requests since the canary started, other rules on the shortest router window
/// that has `min_requests` canary requests. A step advances once its pause is over and it has evidence:
/// `min_requests` canary requests during the step, every sequential test at its floor, no rule holding
/// for lack of data. A step without evidence by `max_step_duration` fails with "insufficient traffic".
public struct CanaryJudge: Sendable {
    public let settings: CanarySettings
    public let analysis: AnalysisSettings
    private var sequential: [Int: ErrorRateTest] = [:]
    private var windowed: RuleEvaluator
    private var windowedIndex: [Int] = []
    private var previous: CanaryObservation?
    private var firstRestarts: Int?
    private var unreadyIntervals = 0
    private var step = -1
    private var stepStart = RequestCounts()
    private var acceptedInStep: Set<Int> = []

    public init(settings: CanarySettings, analysis: AnalysisSettings?) {
        self.settings = settings
        self.analysis = analysis ?? AnalysisSettings()
        var others: [Rule] = []
        for (i, rule) in self.analysis.rules.enumerated() {
            if Self.isSequential(rule) { sequential[i] = ErrorRateTest(threshold: rule.threshold) } else {
                others.append(rule)
                windowedIndex.append(i)
            }
        }
        windowed = RuleEvaluator(rules: others, minRequests: self.analysis.minRequests)
    }

    public var evidence: Evidence {
        Evidence(step: step, stepStart: stepStart, accepted: acceptedInStep.sorted(),
                 tests: Dictionary(uniqueKeysWithValues: sequential.map { (String($0.key), $0.value.state) }))
    }

    /// Resumes from saved evidence (a daemon restart during the canary); tests of rules that are gone are ignored.
    public mutating func restore(_ saved: Evidence) {
        step = saved.step
        stepStart = saved.stepStart
        acceptedInStep = Set(saved.accepted)
        for (key, state) in saved.tests {
            guard let i = Int(key), sequential[i] != nil else { continue }
            sequential[i]?.state = state
        }
    }

    /// `error_rate > baseline …` rules go to the sequential test.
    static func isSequential(_ rule: Rule) -> Bool {
        rule.metric == .errorRate && rule.threshold.needsBaseline && rule.sustained == nil
            && (rule.comparison == .greater || rule.comparison == .greaterOrEqual)
    }

    public mutating func observe(_ o: CanaryObservation, step index: Int, stepStartedAt: Date, at now: Date) -> (CanaryDecision, CanaryAnalysis) {
        defer { previous = o }
        if index != step {
            step = index
            stepStart = o.canary
            acceptedInStep = []
        }
        var analysisOut = CanaryAnalysis(time: now, canary: o.canary, stable: o.stable, decision: .hold, detail: "")
        func decide(_ d: CanaryDecision) -> (CanaryDecision, CanaryAnalysis) {
            switch d {
            case .fail(let s), .inconclusive(let s): (analysisOut.decision, analysisOut.detail) = (.fail, s)
            case .advance(let s): (analysisOut.decision, analysisOut.detail) = (.advance, s)
            case .hold(let s): (analysisOut.decision, analysisOut.detail) = (.hold, s)
            case .wait(let s): (analysisOut.decision, analysisOut.detail) = (.wait, s)
            }
            return (d, analysisOut)
        }
        if let reason = fastSignal(o) { return decide(.fail(reason)) }

        // The analysis rules.
        let window = o.windows.first { $0.canary.requests >= analysis.minRequests } ?? o.windows.first
        if let window {
            analysisOut.window = window.name
            analysisOut.canaryP99Ms = window.canary.latency[99].map { $0 * 1000 }
            analysisOut.stableP99Ms = window.stable.latency[99].map { $0 * 1000 }
        }
        var outcomes: [Int: RuleOutcome] = [:]
        var failure: String?
        var lacking: [String] = []
        for (i, var test) in sequential.sorted(by: { $0.key < $1.key }) {
            let rule = analysis.rules[i]
            let outcome = test.observe(canary: o.canary, baseline: o.stable)
            sequential[i] = test
            let (p0, p1) = test.rates(baseline: o.stable)
            var out = RuleOutcome(rule: rule.text, verdict: .hold, detail: "", observed: o.canary.rate, threshold: p1, baseline: p0,
                                  requests: o.canary.requests)
            out.llr = test.llr
            out.llrFailAt = ErrorRateTest.upper
            out.llrPassAt = ErrorRateTest.lower
            out.confidence = test.posterior
            if o.canary.requests < analysis.minRequests {
                out.detail = "\(o.canary.requests) of \(analysis.minRequests) canary requests"
                lacking.append(rule.text)
            } else {
                switch outcome {
                case .fail:
                    out.verdict = .fail
                    let recent = test.recent.requests < o.canary.requests
                        ? "\(test.recent.errors) of the canary's last \(test.recent.requests) requests failed (\(Self.percent(test.recent.rate))); overall " : ""
                    out.detail = recent + "canary \(Self.percent(o.canary.rate)) (\(o.canary.errors)/\(o.canary.requests)) vs baseline \(Self.percent(o.stable.rate)) "
                        + "(\(o.stable.errors)/\(o.stable.requests)): the sequential test favours \(Self.percent(p1)) over the baseline's \(Self.percent(p0)) "
                        + "(log-likelihood ratio \(String(format: "%.2f", test.llr)) past \(String(format: "%.2f", ErrorRateTest.upper)))"
                    failure = failure ?? "\(rule.text): \(out.detail)"
                case .accepted:
                    acceptedInStep.insert(i)
                    out.verdict = .pass
                    out.detail = "canary \(Self.percent(o.canary.rate)) vs baseline \(Self.percent(o.stable.rate)) over \(o.canary.requests) requests"
                case .open:
                    out.detail = "collecting evidence (log-likelihood ratio \(String(format: "%.2f", test.llr)) between \(String(format: "%.2f", ErrorRateTest.lower)) and \(String(format: "%.2f", ErrorRateTest.upper)))"
                }
                if outcome != .fail, !acceptedInStep.contains(i) { lacking.append(rule.text) }
                else if outcome != .fail { out.verdict = .pass }
            }
            outcomes[i] = out
        }
        if let window, !windowedIndex.isEmpty {
            let verdicts = windowed.observe(window.canary, baseline: window.stable, at: now)
            for (k, v) in verdicts.enumerated() {
                let i = windowedIndex[k], rule = analysis.rules[i]
                switch v {
                case .pass(let e):
                    outcomes[i] = RuleOutcome(rule: rule.text, verdict: .pass, detail: "\(Self.format(e.observed, rule)) within \(Self.format(e.threshold, rule)) (\(window.name))",
                                              observed: e.observed, threshold: e.threshold, baseline: e.baseline, requests: e.requests)
                case .fail(let e):
                    let detail = "\(Self.format(e.observed, rule)) against \(Self.format(e.threshold, rule)) over the last \(window.name)"
                        + (e.requests.map { " (\($0) requests)" } ?? "")
                    outcomes[i] = RuleOutcome(rule: rule.text, verdict: .fail, detail: detail, observed: e.observed, threshold: e.threshold,
                                              baseline: e.baseline, requests: e.requests)
                    failure = failure ?? "\(rule.text): \(detail)"
                case .hold(let why):
                    outcomes[i] = RuleOutcome(rule: rule.text, verdict: .hold, detail: why)
                    // A `for D` rule that is counting is evidence against passing, not a lack of data.
                    if rule.metric.needsRequests || rule.threshold.needsBaseline { lacking.append(rule.text) }
                }
            }
        }
        analysisOut.verdicts = analysis.rules.indices.compactMap { outcomes[$0] }
        for (settings, reading) in zip(analysis.providers, o.providers) {
            let out = reading.outcome(settings)
            analysisOut.verdicts.append(out)
            if out.verdict == .fail { failure = failure ?? "\(out.rule): \(out.detail)" }
            if out.verdict == .hold { lacking.append(out.rule) }
        }
        if let failure { return decide(.fail(failure)) }

        // The step.
        let stepNumber = index + 1, weight = settings.weight(at: index)
        let elapsed = now.timeIntervalSince(stepStartedAt)
        let stepRequests = o.canary.requests - stepStart.requests
        if case .manual = settings.steps[index].pause {
            return decide(.wait("step \(stepNumber) (\(weight)%): waiting for 'slipway canary promote'"))
        }
        let enough = stepRequests >= analysis.minRequests && lacking.isEmpty
        if case .duration(let pause) = settings.steps[index].pause, elapsed < pause.seconds {
            let left = Duration.seconds(Int64((pause.seconds - elapsed).rounded(.up)))
            var paused = decide(.hold("step \(stepNumber) (\(weight)%): paused, \(DurationParsing.format(left)) left"
                                      + (enough ? "" : "; \(stepRequests) of \(analysis.minRequests) canary requests so far")))
            paused.1.decision = .pause
            return paused
        }
        if enough {
            // The next step counts its requests from here, where its weight takes effect.
            step = index + 1
            stepStart = o.canary
            acceptedInStep = []
            let rate = o.canary.rate.map { " with \(Self.percent($0)) errors" } ?? ""
            return decide(.advance("step \(stepNumber) (\(weight)%) passed: \(stepRequests) canary requests in the step\(rate)"
                                   + " (stable \(Self.percent(o.stable.rate)))"))
        }
        let need = stepRequests < analysis.minRequests ? "\(stepRequests) of \(analysis.minRequests) canary requests"
            : "evidence for \(lacking.joined(separator: ", "))"
        if elapsed >= settings.maxStepDuration.seconds {
            // Too few requests is "insufficient traffic"; enough requests that still cannot tell the
            // releases apart within the rules' margins is "insufficient evidence".
            let kind = stepRequests < analysis.minRequests ? "traffic" : "evidence"
            return decide(.inconclusive("insufficient \(kind): step \(stepNumber) (\(weight)%) had \(need) after \(DurationParsing.format(settings.maxStepDuration))"))
        }
        if stepRequests < analysis.minRequests, elapsed > 0 {
            let rate = Double(stepRequests) / elapsed
            if rate > 0 {
                analysisOut.etaSeconds = Double(analysis.minRequests - stepRequests) / rate
                return decide(.hold("step \(stepNumber) (\(weight)%): \(need), about \(Int(analysisOut.etaSeconds!.rounded(.up)))s more at \(String(format: "%.1f", rate)) req/s"))
            }
            return decide(.hold("step \(stepNumber) (\(weight)%): \(need), no canary traffic yet"))
        }
        return decide(.hold("step \(stepNumber) (\(weight)%): \(need)"))
    }

    /// The canary's process gone, readiness failing, restarts, refused connections, a burst of 5xx.
    private mutating func fastSignal(_ o: CanaryObservation) -> String? {
        if o.alive < o.instances { return "the canary's process exited (\(o.instances - o.alive) of \(o.instances) instance(s) gone)" }
        let base = firstRestarts ?? o.restarts
        firstRestarts = base
        if o.restarts > base { return "the canary crashed and was restarted (\(o.restarts - base) restart(s))" }
        unreadyIntervals = o.ready < o.instances ? unreadyIntervals + 1 : 0
        if unreadyIntervals >= 2 { return "the canary fails readiness (\(o.instances - o.ready) of \(o.instances) instance(s) not ready for \(unreadyIntervals) intervals)" }
        if let p = previous {
            let refused = o.upstreamErrors - p.upstreamErrors
            if refused >= 3 { return "the canary refuses connections (\(refused) failed in one interval)" }
            let n = o.canary.requests - p.canary.requests, e = o.canary.errors - p.canary.errors
            if n >= WatchJudge.burstRequests, Double(e) >= WatchJudge.burstShare * Double(n) {
                return "a burst of errors: \(e) of \(n) canary requests failed in one interval"
            }
        }
        if let w = o.windows.first, w.canary.requests >= WatchJudge.burstRequests, Double(w.canary.errors) >= WatchJudge.burstShare * Double(w.canary.requests) {
            return "a burst of errors: \(w.canary.errors) of \(w.canary.requests) canary requests failed in the last \(w.name)"
        }
        return nil
    }

    /// `12 ms`, or `n/a`.
    public static func milliseconds(_ v: Double?) -> String { v.map { String(format: "%.0f ms", $0) } ?? "n/a" }

    public static func percent(_ v: Double?) -> String {
        guard let v else { return "n/a" }
        return String(format: v < 0.01 && v > 0 ? "%.2f%%" : "%.1f%%", v * 100)
    }

    public static func format(_ v: Double, _ rule: Rule) -> String {
        switch rule.metric {
        case .errorRate, .memory, .cpu, .diskFree: percent(v)
        case .latency: String(format: "%.0f ms", v * 1000)
        case .backupAge: DurationParsing.human(.seconds(Int64(v)))
        default: String(format: "%.4g", v)
        }
    }
}
