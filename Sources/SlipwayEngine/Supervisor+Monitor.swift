import CoreFoundation
import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Supervisor {
    /// One pass of supervision. Returns true when the set of ready serving instances changed
    /// (the router table must be pushed again).
    public func tick(config: SlipwayConfig) async -> Bool {
        guard let instances = try? store.instances() else { return false }
        var changed = false
        let now = ContinuousClock.now
        var toProbe: [(InstanceRecord, HealthSettings)] = []
        for var i in instances {
            guard let id = i.id, let env = config.environments[i.environment] else { continue }
            if i.state == .stopping || i.state == .stopped { continue }
            if lastRotateCheck[id].map({ now - $0 >= Self.rotateCheckInterval }) ?? true {
                lastRotateCheck[id] = now
                rotateIfLarge(i.logFile)
            }
            if !isRunning(i, id: id, now: now) {
                if i.state != .crashed {
                    logger.warning("instance exited", metadata: ["instance.env": "\(i.environment)", "release.version": "\(i.release)", "instance.pid": "\(i.pid)"])
                    crashedAt[id] = now
                    if i.ready { changed = true }
                    i.ready = false
                    i.state = .crashed
                    logger.write("save an instance", to: store) { () throws(SlipwayError) in try store.save(i) }
                    trackers[id] = nil
                    record(.crashed, i)
                    // What the launcher forked may still run (and hold the port): ask it to stop now.
                    ProcessGroup.signal(i.pid, startTime: UInt64(i.procStartTime), SIGTERM)
                }
                // Exponential back-off: 0.5s, 1s, 2s … capped at 30s.
                let delay = Duration.milliseconds(min(30_000, 500 << min(i.restarts, 6)))
                if let at = crashedAt[id], now - at < delay { continue }
                if crashedAt[id] == nil { crashedAt[id] = now; continue }
                // The crashed instance's group must be empty before its replacement takes the port.
                if ProcessGroup.signal(i.pid, startTime: UInt64(i.procStartTime), SIGKILL) > 0 { continue }
                restart(i, env: env, app: config.app)
                continue
            }
            if i.state == .running, lastProbe[id].map({ now - $0 >= env.health.interval }) ?? true {
                lastProbe[id] = now
                toProbe.append((i, env.health))
            }
        }
        await checkLiveness(instances, config: config, now: now)
        await findContainerCgroups(instances, now: now)
        let results = await withTaskGroup(of: (InstanceRecord, Bool).self) { group in
            for (i, health) in toProbe {
                group.addTask { (i, await self.prober.probe(port: i.port, path: health.path, timeout: health.timeout).success) }
            }
            var out: [(InstanceRecord, Bool)] = []
            for await r in group { out.append(r) }
            return out
        }
        for (var i, ok) in results {
            guard let id = i.id, let health = config.environments[i.environment]?.health else { continue }
            if !ok { healthFailureCounts[id, default: 0] += 1 }
            var t = trackers[id] ?? ReadinessTracker(healthyThreshold: health.healthyThreshold, unhealthyThreshold: health.unhealthyThreshold, initiallyReady: i.ready)
            if t.record(success: ok) {
                // Re-read: a deploy may have changed the row while we probed.
                guard let fresh = try? store.instances(environment: i.environment).first(where: { $0.id == id }), fresh.state == .running else { continue }
                i = fresh
                i.ready = t.isReady
                logger.write("save an instance", to: store) { () throws(SlipwayError) in try store.save(i) }
                changed = true
                record(t.isReady ? .ready : .notReady, i)
                logger.info(t.isReady ? "instance ready" : "instance not ready", metadata: ["instance.pid": "\(i.pid)", "instance.port": "\(i.port)"])
            }
            trackers[id] = t
        }
        return changed
    }

    private func restart(_ instance: InstanceRecord, env: EnvironmentConfig, app: String) {
        var i = instance
        guard let id = i.id else { return }
        do {
            let child = try respawn(app: app, env: env, instance: i)
            confine(child.pid, environment: i.environment, release: i.release, slot: i.slot, limit: env.process.memoryLimit)
            i.pid = child.pid
            i.procStartTime = Int64(child.startTime)
            i.restarts += 1
            let record = try store.environment(i.environment)
            i.state = i.release == record.currentRelease ? .running : (i.release == record.previousRelease ? .standby : .starting)
            i.ready = false
            i.startedAt = Date()
            _ = try store.save(i)
            crashedAt[id] = nil
            containerCgroups[id] = nil  // a new container: its cgroup is looked up again
            cgroupLookups[id] = nil
            self.record(.restarted, i)
            logger.info("restarted instance", metadata: ["instance.pid": "\(child.pid)", "instance.restarts": "\(i.restarts)"])
        } catch {
            crashedAt[id] = ContinuousClock.now
            logger.error("cannot restart instance", metadata: ["error": "\(error)"])
        }
    }

    func respawn(app: String, env: EnvironmentConfig, instance i: InstanceRecord) throws(SlipwayError) -> ProcessSpawner.Spawned {
        let vars = try environment(app: app, env: env, release: i.release, slot: i.slot, port: i.port)
        return try spawnRelease(env.process, key: "process", release: i.release, name: [i.environment, i.release, String(i.slot)], environment: vars, logFile: i.logFile)
    }

    /// Whether the instance's process still runs: the full check (/proc: the same start time, not a zombie) once
    /// every `fullCheckInterval` per instance and for an instance not yet known running, `kill(pid, 0)` between.
    func isRunning(_ i: InstanceRecord, id: Int64, now: ContinuousClock.Instant) -> Bool {
        if i.state != .crashed, let last = lastFullCheck[id], now - last < Self.fullCheckInterval {
            return ProcessInspector.pidExists(i.pid)
        }
        let alive = ProcessInspector.isAlive(pid: i.pid, startTime: UInt64(i.procStartTime))
        lastFullCheck[id] = alive ? now : nil
        return alive
    }

    /// Copy-truncate rotation: the instance keeps its O_APPEND descriptor and keeps writing.
    func rotateIfLarge(_ path: String) {
        var info = stat()
        guard path.withCString({ fstatat(AT_FDCWD, $0, &info, 0) }) == 0, UInt64(info.st_size) > Self.maxLogBytes else { return }
        let old = path + ".1"
        try? FileManager.default.removeItem(atPath: old)
        try? FileManager.default.copyItem(atPath: path, toPath: old)
        truncate(path, 0)
    }
}
