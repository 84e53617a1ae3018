import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Supervisor {
    /// `health.live`: every serving or warm instance is probed on its liveness path each interval; one that
    /// fails `unhealthy_threshold` times in a row is hung, not just unready, and is killed (its whole process
    /// group). The next pass finds it dead and restarts it like a crash, with the same back-off.
    func checkLiveness(_ instances: [InstanceRecord], config: SlipwayConfig, now: ContinuousClock.Instant) async {
        var due: [(InstanceRecord, HealthSettings, String)] = []
        for i in instances {
            guard let id = i.id, i.state == .running || i.state == .standby, let health = config.environments[i.environment]?.health,
                  let live = health.live, lastLiveProbe[id].map({ now - $0 >= health.interval }) ?? true else { continue }
            lastLiveProbe[id] = now
            due.append((i, health, live))
        }
        let results = await withTaskGroup(of: (InstanceRecord, HealthSettings, Bool).self) { group in
            for (i, health, path) in due {
                group.addTask { (i, health, await self.prober.probe(port: i.port, path: path, timeout: health.timeout).success) }
            }
            var out: [(InstanceRecord, HealthSettings, Bool)] = []
            for await r in group { out.append(r) }
            return out
        }
        for (i, health, ok) in results {
            guard let id = i.id else { continue }
            if !ok { healthFailureCounts[id, default: 0] += 1 }
            let failures = ok ? 0 : (liveFailures[id] ?? 0) + 1
            liveFailures[id] = failures
            guard failures >= health.unhealthyThreshold else { continue }
            // Re-read: a deploy may have stopped or replaced it while we probed.
            guard let fresh = try? store.instances(environment: i.environment).first(where: { $0.id == id }), fresh.pid == i.pid,
                  fresh.state == .running || fresh.state == .standby else { continue }
            liveFailures[id] = nil
            logger.warning("instance failed its liveness check; killing it to restart it",
                           metadata: ["instance.pid": "\(i.pid)", "instance.failures": "\(failures)"])
            record(.notLive, fresh)
            ProcessGroup.signal(fresh.pid, startTime: UInt64(fresh.procStartTime), SIGKILL)
        }
    }
}
