import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// What a deployment does to instances and release directories that needs no deployment state: gate them
/// on health, record them as serving or leaving, re-adopt them after a restart, prune old releases. It
/// owns no state; it calls the store, the supervisor and the release store.
struct InstanceSteps: FeatureObject {
    let context: EngineContext

    /// Probes `instances` until all are ready or the deadline passes.
    func gate(_ instances: [InstanceRecord], settings: HealthSettings) async -> GateOutcome {
        let ports = instances.map(\.port)
        let prober = HealthProber()
        do {
            return try await HealthGate(clock: ContinuousClock(), settings: settings).run(instances: instances.count) { i in
                await prober.probe(port: ports[i], path: settings.path, timeout: settings.timeout)
            }
        } catch {
            return .expired(lastResults: [])
        }
    }

    /// Records instances as running and ready (they just passed the gate) so the next table includes them.
    func markServing(_ instances: [InstanceRecord], env: EnvironmentConfig) async throws(SlipwayError) {
        for var i in instances {
            i.state = .running
            i.ready = true
            try store.save(i)
        }
        await supervisor.markServing(instances.compactMap(\.id), healthy: env.health.healthyThreshold, unhealthy: env.health.unhealthyThreshold)
    }

    /// Records instances as leaving: the router's next table has none of them.
    func markLeaving(_ instances: [InstanceRecord]) throws(SlipwayError) {
        for var i in instances {
            i.state = .stopping
            i.ready = false
            try store.save(i)
        }
    }

    /// At a daemon start: live instances are kept; dead running ones are left to the supervision loop's
    /// restart, and what a dead launcher left half-started or stopping goes. Returns how many were alive.
    func readopt() async throws(SlipwayError) -> Int {
        var adopted = 0
        for var i in try store.instances() {
            if ProcessInspector.isAlive(pid: i.pid, startTime: UInt64(i.procStartTime)) {
                adopted += 1
                continue
            }
            switch i.state {
            case .running, .crashed:
                // The supervision loop restarts it with back-off.
                i.state = .crashed
                i.ready = false
                try store.save(i)
            case .starting, .standby, .stopping, .stopped:
                // Its launcher is gone; whatever it forked goes too.
                _ = await ProcessGroup.stop(i.pid, startTime: UInt64(i.procStartTime), timeout: .seconds(1))
                if let id = i.id { try store.deleteInstance(id) }
            }
        }
        return adopted
    }

    /// Removes release directories beyond keep_releases; never the current or previous release of any
    /// environment, nor one an instance runs.
    func pruneReleases(_ cfg: SlipwayConfig) {
        var protected = Set<String>()
        for name in cfg.environmentNames {
            if let r = try? store.environment(name) {
                if let c = r.currentRelease { protected.insert(c) }
                if let p = r.previousRelease { protected.insert(p) }
            }
        }
        for i in (try? store.instances()) ?? [] { protected.insert(i.release) }
        let removed = releases.prune(keep: cfg.keepReleases, protected: protected)
        if !removed.isEmpty { logger.info("pruned releases", metadata: ["release.removed": "\(removed.joined(separator: ","))"]) }
    }
}
