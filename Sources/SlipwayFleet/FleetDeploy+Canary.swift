import Foundation
import SlipwayCore

/// `fleet.strategy: canary`: the first `canary.hosts` switch alone, then what their routers and instances do on the new
/// release is judged against the other hosts on theirs for `canary.analysis`, by the same `CanaryJudge` a single host's
/// canary uses: the environment's `analysis` rules (default `error_rate > baseline + 2%`: error rate by the sequential
/// test, latency, rps, memory, CPU, restarts and health on the router's windows; `providers`, read by the controller)
/// and its fast signals (a canary process
/// that exits or restarts, fails readiness, refuses connections or answers a burst of errors). A failure reverts the
/// canary hosts and leaves the others untouched; a pass promotes the rest, batch by batch.
extension FleetDeploy {
    /// The analysis a fleet canary judges by when the environment has none.
    public static let defaultCanaryAnalysis: AnalysisSettings = {
        // The rule's text is fixed and valid: parsing it cannot fail.
        let rule = (try? RuleParser.parse("error_rate > baseline + 2%")).map { [$0] } ?? []
        return AnalysisSettings(minRequests: 40, rules: rule)
    }()

    /// Each host's samples now (hosts that do not answer report nothing).
    func samples(_ hosts: [any FleetHost], _ indices: [Int]) async -> [Int: [String: ReleaseSample]] {
        let read = await concurrently(indices, limit: maxParallel) { [app, environment] i async -> [String: ReleaseSample] in
            (try? await hosts[i].samples(app: app, environment: environment)) ?? [:]
        }
        return Dictionary(uniqueKeysWithValues: zip(indices, read))
    }

    /// Judges the canary hosts until `canaryAnalysis` has passed; nil when they pass, else why they failed.
    /// `releases`: what each other host serves (its baseline's release); `base`: everyone's samples before the switch.
    func judgeCanary(_ hosts: [any FleetHost], canary: [Int], others: [Int], releases: [Int: String], base: [Int: [String: ReleaseSample]]) async -> String? {
        // One step as long as the analysis: only a failure ends it early.
        var judge = CanaryJudge(settings: CanarySettings(steps: [CanaryStep(weight: 100)], maxStepDuration: settings.canaryAnalysis * 100), analysis: analysis)
        let started = Date()
        let end = ContinuousClock.now + settings.canaryAnalysis
        while ContinuousClock.now < end {
            try? await Task.sleep(for: canaryInterval)
            let now = await samples(hosts, canary + others)
            var o = Self.observation(now: now, base: base, canary: canary.map { ($0, version) }, others: others.compactMap { i in releases[i].map { (i, $0) } })
            o.providers = await readProviders?() ?? []
            if case .fail(let why) = judge.observe(o, step: 0, stepStartedAt: started, at: Date()).0 { return why }
        }
        return nil
    }

    /// The canary hosts' samples of `version` against the other hosts' of what each serves, as one observation: counters
    /// since `base` (a router that restarted counts from zero), windows merged (`MetricSample.merged`), instances added up.
    static func observation(now: [Int: [String: ReleaseSample]], base: [Int: [String: ReleaseSample]], canary: [(Int, String)], others: [(Int, String)]) -> CanaryObservation {
        func since(_ i: Int, _ release: String) -> RequestCounts {
            (now[i]?[release]?.counts ?? RequestCounts()).since(base[i]?[release]?.counts ?? RequestCounts())
        }
        func total(_ side: [(Int, String)]) -> RequestCounts {
            side.reduce(RequestCounts()) { sum, h in let d = since(h.0, h.1); return RequestCounts(requests: sum.requests + d.requests, errors: sum.errors + d.errors) }
        }
        let canarySamples = canary.compactMap { now[$0.0]?[$0.1] }
        let windows = ReleaseSample.windowSeconds.map { w in
            CanaryWindow(name: w.name, canary: MetricSample.merged(canary.compactMap { now[$0.0]?[$0.1]?.sample(w.name, seconds: w.seconds) }, worst: true),
                         stable: MetricSample.merged(others.compactMap { now[$0.0]?[$0.1]?.sample(w.name, seconds: w.seconds) }, worst: false))
        }
        // A canary host that reports nothing counts as one instance gone.
        let missing = canary.count - canarySamples.count
        return CanaryObservation(canary: total(canary), stable: total(others), windows: windows,
                                 instances: canarySamples.reduce(0) { $0 + $1.instances } + missing, alive: canarySamples.reduce(0) { $0 + $1.alive },
                                 ready: canarySamples.reduce(0) { $0 + $1.ready }, restarts: canarySamples.reduce(0) { $0 + $1.restarts },
                                 upstreamErrors: canarySamples.reduce(0) { $0 + $1.upstreamErrors })
    }
}
