import Foundation
import SlipwayCore
import Testing
@testable import SlipwayEngine

/// The canary's decisions, driven with synthetic streams and an injected clock.
@Suite struct CanaryJudgeTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func settings(_ steps: [CanaryStep], maxStep: Duration = .seconds(600)) -> CanarySettings {
        CanarySettings(instances: 1, steps: steps, maxStepDuration: maxStep)
    }

    static func analysis(_ rules: [String], minRequests: Int = 200) throws -> AnalysisSettings {
        AnalysisSettings(minRequests: minRequests, rules: try rules.map { try RuleParser.parse($0) })
    }

    /// A deterministic generator (SplitMix64), so a simulation fails the same way every run.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Binomial(n, p) by inversion: one uniform draw, a walk over the distribution (short for small n·p).
    static func binomial(_ n: Int, _ p: Double, _ rng: inout SplitMix) -> Int {
        guard n > 0, p > 0 else { return 0 }
        let u = Double.random(in: 0..<1, using: &rng)
        var k = 0, pk = pow(1 - p, Double(n)), cdf = pk
        while u > cdf, k < n {
            pk *= Double(n - k) / Double(k + 1) * p / (1 - p)
            k += 1
            cdf += pk
        }
        return k
    }

    /// One simulated canary: `rps` requests a second split by weight, errors at `baselineRate` and
    /// `canaryRate`, steps 5% → 25% → 50%, each advancing once the judge lets it (max_step_duration 30m).
    /// Returns how it ended ("fail" by analysis, "undecided" at max_step_duration, "promoted") and the
    /// canary's requests by then.
    static func simulate(baselineRate: Double, canaryRate: Double, rng: inout SplitMix, rps: Int = 200) throws -> (String, Int) {
        let steps = [CanaryStep(weight: 5), CanaryStep(weight: 25), CanaryStep(weight: 50)]
        var judge = CanaryJudge(settings: settings(steps, maxStep: .seconds(1800)), analysis: try analysis(["error_rate > baseline + 1%"]))
        var canary = RequestCounts(), stable = RequestCounts()
        var step = 0, stepStart = t0
        for second in 1...6000 {
            let now = t0 + Double(second)
            let n = binomial(rps, Double(steps[step].weight!) / 100, &rng)
            canary.requests += n
            canary.errors += binomial(n, canaryRate, &rng)
            stable.requests += rps - n
            stable.errors += binomial(rps - n, baselineRate, &rng)
            let (decision, _) = judge.observe(CanaryObservation(canary: canary, stable: stable), step: step, stepStartedAt: stepStart, at: now)
            switch decision {
            case .fail: return ("fail", canary.requests)
            case .inconclusive: return ("undecided", canary.requests)
            case .advance:
                if step == steps.count - 1 { return ("promoted", canary.requests) }
                step += 1
                stepStart = now
            case .hold, .wait: continue
            }
        }
        return ("undecided", canary.requests)
    }

    /// Identical releases: fewer than 1% of 1,000 canaries fail, at low and at high error rates.
    @Test(arguments: [0.001, 0.01, 0.05])
    func identicalReleasesRarelyFail(baselineRate: Double) throws {
        var rng = SplitMix(state: 42)
        var failed = 0, promoted = 0
        for _ in 0..<1000 {
            let (end, _) = try Self.simulate(baselineRate: baselineRate, canaryRate: baselineRate, rng: &rng)
            if end == "fail" { failed += 1 }
            if end == "promoted" { promoted += 1 }
        }
        #expect(failed < 10, "\(failed) of 1000 identical canaries failed at a \(baselineRate * 100)% error rate")
        #expect(promoted >= 950, "\(promoted) of 1000 identical canaries were promoted")
    }

    /// A canary 2 points worse than a healthy 0.1% baseline fails within 500 of its requests in ≥ 95% of runs.
    @Test func aTwoPointRegressionIsCaughtWithin500Requests() throws {
        var rng = SplitMix(state: 7)
        var caught = 0
        for _ in 0..<1000 {
            let (end, requests) = try Self.simulate(baselineRate: 0.001, canaryRate: 0.021, rng: &rng)
            if end == "fail", requests <= 500 { caught += 1 }
        }
        #expect(caught >= 950, "caught within 500 canary requests in \(caught) of 1000 runs")
    }

    /// No traffic: the step holds (never passes, never fails on an empty window) and ends in
    /// "insufficient traffic" at max_step_duration; with some traffic the hold says when it will have enough.
    @Test func tooLittleTrafficHoldsThenAborts() throws {
        var judge = CanaryJudge(settings: Self.settings([CanaryStep(weight: 10)], maxStep: .seconds(60)),
                                analysis: try Self.analysis(["error_rate > baseline + 1%", "p99_latency > 1.5 * baseline"]))
        var canary = RequestCounts()
        for second in 0..<60 {
            if second >= 30 { canary.requests += 2 }
            let (decision, analysis) = judge.observe(CanaryObservation(canary: canary, stable: RequestCounts(requests: 50 * second)),
                                                     step: 0, stepStartedAt: Self.t0, at: Self.t0 + Double(second))
            guard case .hold(let why) = decision else {
                Issue.record("second \(second): \(decision)")
                return
            }
            if second == 40 {
                #expect(why.contains("22 of 200 canary requests"), "\(why)")
                #expect(analysis.etaSeconds.map { $0 > 100 && $0 < 500 } == true, "ETA at 0.5 req/s: \(String(describing: analysis.etaSeconds))")
            }
            #expect(analysis.verdicts.allSatisfy { $0.verdict == .hold }, "no rule passes or fails on so little")
        }
        let (decision, _) = judge.observe(CanaryObservation(canary: canary, stable: RequestCounts(requests: 3000)),
                                          step: 0, stepStartedAt: Self.t0, at: Self.t0 + 60)
        guard case .inconclusive(let why) = decision else { Issue.record("\(decision)"); return }
        #expect(why.hasPrefix("insufficient traffic"), "\(why)")
    }

    @Test func aPausedStepWaitsForItsPauseAndAManualOneForPromote() throws {
        var judge = CanaryJudge(settings: Self.settings([CanaryStep(weight: 10, pause: .duration(.seconds(30))), CanaryStep(pause: .manual)]),
                                analysis: try Self.analysis([], minRequests: 10))
        _ = judge.observe(CanaryObservation(canary: RequestCounts(), stable: RequestCounts()), step: 0, stepStartedAt: Self.t0, at: Self.t0)
        let busy = CanaryObservation(canary: RequestCounts(requests: 500), stable: RequestCounts(requests: 5000))
        guard case .hold(let why) = judge.observe(busy, step: 0, stepStartedAt: Self.t0, at: Self.t0 + 10).0 else { Issue.record("no hold"); return }
        #expect(why.contains("paused, 20s left"), "\(why)")
        guard case .advance = judge.observe(busy, step: 0, stepStartedAt: Self.t0, at: Self.t0 + 30).0 else { Issue.record("no advance"); return }
        let later = CanaryObservation(canary: RequestCounts(requests: 5000), stable: RequestCounts(requests: 50000))
        guard case .wait = judge.observe(later, step: 1, stepStartedAt: Self.t0 + 30, at: Self.t0 + 3000).0 else { Issue.record("no wait"); return }
    }

    /// Fast signals decide in the interval they appear, whatever the traffic.
    @Test func fastSignalsFailAtOnce() throws {
        let s = Self.settings([CanaryStep(weight: 5)])
        let calm = CanaryObservation(canary: RequestCounts(requests: 10), stable: RequestCounts(requests: 200))
        var gone = CanaryJudge(settings: s, analysis: nil)
        _ = gone.observe(calm, step: 0, stepStartedAt: Self.t0, at: Self.t0)
        var dead = calm
        dead.alive = 0
        #expect(gone.observe(dead, step: 0, stepStartedAt: Self.t0, at: Self.t0 + 1).0 == .fail("the canary's process exited (1 of 1 instance(s) gone)"))

        var burst = CanaryJudge(settings: s, analysis: nil)
        _ = burst.observe(calm, step: 0, stepStartedAt: Self.t0, at: Self.t0)
        let bad = CanaryObservation(canary: RequestCounts(requests: 40, errors: 16), stable: RequestCounts(requests: 600))
        #expect(burst.observe(bad, step: 0, stepStartedAt: Self.t0, at: Self.t0 + 1).0 == .fail("a burst of errors: 16 of 30 canary requests failed in one interval"))

        var refused = CanaryJudge(settings: s, analysis: nil)
        _ = refused.observe(calm, step: 0, stepStartedAt: Self.t0, at: Self.t0)
        var down = calm
        down.upstreamErrors = 3
        #expect(refused.observe(down, step: 0, stepStartedAt: Self.t0, at: Self.t0 + 1).0 == .fail("the canary refuses connections (3 failed in one interval)"))
    }

    /// Two tiny latencies are not a regression however large their ratio: differences under 5 ms are noise.
    @Test func latencyDifferencesUnderFiveMillisecondsAreNoise() throws {
        func verdict(canary: Double, stable: Double) throws -> CanaryDecision {
            var judge = CanaryJudge(settings: Self.settings([CanaryStep(weight: 5, pause: .manual)]),
                                    analysis: try Self.analysis(["p99_latency > 1.5 * baseline"], minRequests: 100))
            let window = CanaryWindow(name: "10s", canary: MetricSample(requests: 400, latency: [99: canary]), stable: MetricSample(requests: 8000, latency: [99: stable]))
            return judge.observe(CanaryObservation(canary: RequestCounts(requests: 400), stable: RequestCounts(requests: 8000), windows: [window]),
                                 step: 0, stepStartedAt: Self.t0, at: Self.t0 + 10).0
        }
        #expect(try verdict(canary: 0.0031, stable: 0.0012) == .wait("step 1 (5%): waiting for 'slipway canary promote'"), "2.6× of 1.2 ms is noise")
        #expect(try verdict(canary: 0.030, stable: 0.012) == .fail("p99_latency > 1.5 * baseline: 30 ms against 18 ms over the last 10s (400 requests)"))
    }

    /// Latency is judged against the baseline on the shortest window with enough canary requests.
    @Test func latencyIsComparedOnTheShortestWindowWithEnoughRequests() throws {
        var judge = CanaryJudge(settings: Self.settings([CanaryStep(weight: 5)]), analysis: try Self.analysis(["p99_latency > 1.5 * baseline"], minRequests: 100))
        let windows = [
            CanaryWindow(name: "10s", canary: MetricSample(requests: 40, latency: [99: 0.9]), stable: MetricSample(requests: 800, latency: [99: 0.1])),
            CanaryWindow(name: "1m", canary: MetricSample(requests: 240, latency: [99: 0.5]), stable: MetricSample(requests: 4800, latency: [99: 0.1])),
        ]
        let (decision, analysis) = judge.observe(CanaryObservation(canary: RequestCounts(requests: 240), stable: RequestCounts(requests: 4800), windows: windows),
                                                 step: 0, stepStartedAt: Self.t0, at: Self.t0 + 60)
        #expect(analysis.window == "1m")
        #expect(decision == .fail("p99_latency > 1.5 * baseline: 500 ms against 150 ms over the last 1m (240 requests)"))
    }
}

/// External providers: a failing one decides, an unreachable one holds.
@Suite struct ProviderTests {
    @Test func aProviderFailsPassesOrHolds() throws {
        let prom = ProviderSettings(source: .prometheus(url: HTTPURL("http://127.0.0.1:9090")!, query: "sum(x)"), failIf: try RuleParser.parse("value > 10"))
        #expect(ProviderReading(name: prom.name, value: 42).outcome(prom).verdict == .fail)
        #expect(ProviderReading(name: prom.name, value: 3).outcome(prom).verdict == .pass)
        #expect(ProviderReading(name: prom.name, error: "connection refused").outcome(prom).verdict == .hold)
        let web = ProviderSettings(source: .web(url: HTTPURL("http://127.0.0.1:7000/check")!))
        #expect(ProviderReading(name: web.name, ok: false).outcome(web).verdict == .fail)
        #expect(ProviderReading(name: web.name, ok: true).outcome(web).verdict == .pass)
        #expect(ProviderReading(name: web.name).outcome(web).verdict == .hold)
        #expect(HTTPURL("ftp://example.com") == nil && HTTPURL("http://h:99999/") == nil && HTTPURL("http://h/x")?.port == 80)
    }

    /// `rps` is measured: a window's requests over its length, and a rule on it is judged.
    @Test func requestsPerSecondComeFromTheWindow() throws {
        let sample = MetricSample(WindowStats(requests: 600, responses5xx: 6), seconds: 60)
        #expect(sample.rps == 10 && sample.errors == 6)
        var evaluator = RuleEvaluator(rules: [try RuleParser.parse("rps < 20")], minRequests: 1)
        guard case .fail(let e) = evaluator.observe(sample, baseline: nil, at: Date()).first else { Issue.record("rps was not judged"); return }
        #expect(e.observed == 10)
    }

    /// A canary step does not advance while a provider has nothing to say, and fails when one fails.
    @Test func aStepWaitsForItsProviders() throws {
        let web = ProviderSettings(source: .web(url: HTTPURL("http://127.0.0.1:7000/check")!))
        var judge = CanaryJudge(settings: CanarySettings(steps: [CanaryStep(weight: 10)]), analysis: AnalysisSettings(minRequests: 10, providers: [web]))
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        var o = CanaryObservation(canary: RequestCounts(), stable: RequestCounts())
        _ = judge.observe(o, step: 0, stepStartedAt: t0, at: t0)
        o.canary.requests = 100
        o.providers = [ProviderReading(name: web.name, error: "connection refused")]
        guard case .hold = judge.observe(o, step: 0, stepStartedAt: t0, at: t0 + 1).0 else { Issue.record("an unreachable provider let the step pass"); return }
        o.providers = [ProviderReading(name: web.name, ok: false)]
        #expect(judge.observe(o, step: 0, stepStartedAt: t0, at: t0 + 2).0 == .fail("web http://127.0.0.1:7000/check: answered ok: false"))
    }
}
