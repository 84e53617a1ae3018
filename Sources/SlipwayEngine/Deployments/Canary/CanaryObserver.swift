import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// What the canary's loop (`CanaryStrategy+Steps.swift`) observes of both releases: router counters and
/// windows, both releases' processes, the metric providers. Reads only.
struct CanaryObserver: FeatureObject {
    let context: EngineContext

    /// What the canary and the stable release did since the canary started, and the canary's processes.
    func observe(_ env: EnvironmentConfig, _ c: CanaryInfo) async -> CanaryObservation {
        let stats = try? await router.stats()
        let pools = stats?[env.name]
        let cp = pools?[c.release], sp = pools?[c.stable]
        let all = (try? store.instances(environment: env.name)) ?? []
        let instances = all.filter { $0.release == c.release && $0.state != .standby && $0.state != .stopping }
        let stables = all.filter { $0.release == c.stable && $0.state == .running }
        let alive = instances.filter { ProcessInspector.isAlive(pid: $0.pid, startTime: UInt64($0.procStartTime)) }
        let canaryUse = await supervisor.resources(instances)
        let stableUse = await supervisor.resources(stables)
        let limit = env.process.memoryLimit
        let canaryRestarts = instances.reduce(0) { $0 + $1.restarts }, stableRestarts = stables.reduce(0) { $0 + $1.restarts }
        var windows: [CanaryWindow] = []
        for (name, seconds) in ReleaseSample.windowSeconds {
            let cw = cp?.windows[name].map { MetricSample($0, seconds: seconds) } ?? MetricSample(rps: 0)
            let sw = sp?.windows[name].map { MetricSample($0, seconds: seconds) } ?? MetricSample(rps: 0)
            windows.append(CanaryWindow(name: name, canary: cw.with(canaryUse, restarts: canaryRestarts, memoryLimit: limit),
                                        stable: sw.with(stableUse, restarts: stableRestarts, memoryLimit: limit)))
        }
        let readings = await MetricProviders.readProviders(of: env)
        var o = CanaryObservation(canary: Self.since(c.baseCanary, Self.counts(cp)), stable: Self.since(c.baseStable, Self.counts(sp)), windows: windows,
                                  instances: instances.count, alive: alive.count, ready: alive.filter(\.ready).count,
                                  restarts: instances.reduce(0) { $0 + $1.restarts }, upstreamErrors: cp?.upstreamErrors ?? 0)
        o.providers = readings
        return o
    }

    static func counts(_ p: PoolStatsSnapshot?) -> RequestCounts {
        RequestCounts(requests: p?.requests ?? 0, errors: p?.responses5xx ?? 0)
    }

    /// Counts since `base`; a router restart (counters lower than the base) counts from zero.
    static func since(_ base: RequestCounts, _ now: RequestCounts) -> RequestCounts {
        guard now.requests >= base.requests, now.errors >= base.errors else { return now }
        return RequestCounts(requests: now.requests - base.requests, errors: now.errors - base.errors)
    }
}
