import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Reports {
    /// `GET /v1/traffic/releases?env=E`: per release of `environment`, what a fleet canary judges on this host: the router's
    /// counters and windows, and the release's instances (alive, ready, restarts, memory, CPU).
    public func releaseSamples(environment: String) async -> [String: ReleaseSample] {
        guard let env = config.environments[environment] else { return [:] }
        let pools = (try? await router.stats())?[environment] ?? [:]
        let all = (try? store.instances(environment: environment)) ?? []
        var out: [String: ReleaseSample] = [:]
        for release in Set(pools.keys).union(all.map(\.release)) {
            let instances = all.filter { $0.release == release && $0.state != .standby && $0.state != .stopping }
            out[release] = await releaseSample(pools[release], instances: instances, memoryLimit: env.process.memoryLimit)
        }
        return out
    }
}

extension FeatureObject {
    /// One release as a canary's analysis reads it: its router pool's counters and windows, and `instances` (alive, ready,
    /// restarted; their memory and CPU). The same for a single host's canary (`CanaryObserver`) and a fleet's hosts.
    func releaseSample(_ pool: PoolStatsSnapshot?, instances: [InstanceRecord], memoryLimit: Int64?) async -> ReleaseSample {
        let alive = instances.filter { ProcessInspector.isAlive(pid: $0.pid, startTime: UInt64($0.procStartTime)) }
        let use = await supervisor.resources(instances)
        return ReleaseSample(counts: CanaryObserver.counts(pool), upstreamErrors: pool?.upstreamErrors ?? 0, windows: pool?.windows ?? [:],
                             instances: instances.count, alive: alive.count, ready: alive.filter(\.ready).count,
                             restarts: instances.reduce(0) { $0 + $1.restarts }, healthFailures: use.healthFailures, memoryBytes: use.memoryBytes,
                             memoryLimit: memoryLimit.map(Double.init), cpu: use.cpu)
    }
}
