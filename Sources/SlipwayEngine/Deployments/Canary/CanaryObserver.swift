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
        let all = (try? store.instances(environment: env.name)) ?? []
        let instances = all.filter { $0.release == c.release && $0.state != .standby && $0.state != .stopping }
        let stables = all.filter { $0.release == c.stable && $0.state == .running }
        let canary = await releaseSample(pools?[c.release], instances: instances, memoryLimit: env.process.memoryLimit)
        let stable = await releaseSample(pools?[c.stable], instances: stables, memoryLimit: env.process.memoryLimit)
        let windows = ReleaseSample.windowSeconds.map { w in
            CanaryWindow(name: w.name, canary: canary.sample(w.name, seconds: w.seconds), stable: stable.sample(w.name, seconds: w.seconds))
        }
        let readings = await MetricProviders.readProviders(of: env)
        var o = CanaryObservation(canary: canary.counts.since(c.baseCanary), stable: stable.counts.since(c.baseStable), windows: windows,
                                  instances: canary.instances, alive: canary.alive, ready: canary.ready, restarts: canary.restarts,
                                  upstreamErrors: canary.upstreamErrors)
        o.providers = readings
        return o
    }

    static func counts(_ p: PoolStatsSnapshot?) -> RequestCounts {
        RequestCounts(requests: p?.requests ?? 0, errors: p?.responses5xx ?? 0)
    }
}
