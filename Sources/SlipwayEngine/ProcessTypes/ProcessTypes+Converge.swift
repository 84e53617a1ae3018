import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension ProcessTypes {
    /// Makes `environment` run `release`'s types (nil: none), as many of each as wanted: a singleton's old process
    /// has stopped before its new one starts; the others start first, then the old ones get their `stop_signal` and
    /// `stop_timeout` to finish what they are doing. A type the config no longer has stops. `report` gets a line per
    /// change (a deployment's log). Returns false when a process could not be started (the supervision retries).
    @discardableResult
    func converge(_ env: EnvironmentConfig, app: String, to release: String?, report: (@Sendable (String) -> Void)?) async -> Bool {
        await exclusively(env.name) { await converging(env, app: app, to: release, report: report, retry: true) }
    }

    /// `converge` inside `exclusively`.
    @discardableResult
    /// `retry`: a routed type whose new processes failed their gate for this release is tried again (a deployment,
    /// a scale); the supervision passes leave it to them.
    func converging(_ env: EnvironmentConfig, app: String, to release: String?, report: (@Sendable (String) -> Void)?, retry: Bool = false) async -> Bool {
        guard !held.contains(env.name), let rows = try? store.workers.all(environment: env.name) else { return false }
        let scale = (try? store.workers.scale(environment: env.name)) ?? [:]
        var ok = true
        for type in env.processTypes {
            let wanted = Self.wanted(type, scale: scale, serving: release)
            let mine = rows.filter { $0.type == type.name }
            let leaving = mine.filter { $0.release != release || $0.slot >= wanted || $0.state == .stopping }
            let staying = mine.filter { !leaving.contains($0) }
            if type.singleton { await stop(leaving, type: type, report: report) }
            var fresh: [WorkerRecord] = []
            let refusedKey = "\(env.name)/\(type.name)/\(release ?? "-")"
            if retry { refused.remove(refusedKey) }
            if let release, !refused.contains(refusedKey) {
                let missing = (0..<wanted).filter { slot in !staying.contains { $0.slot == slot } }
                var started: [String] = []
                for slot in missing {
                    if let w = await start(env, app: app, type: type, release: release, slot: slot) {
                        fresh.append(w)
                        started.append("\(w.slot) (pid \(w.pid)\(w.port > 0 ? ", port \(w.port)" : ""))")
                    } else { ok = false }
                }
                if !started.isEmpty { report?("started \(started.count) \(type.name) process(es) of \(release): \(started.joined(separator: ", "))") }
            }
            if let route = type.route {
                if !(await switchRoute(env, type, route: route, fresh: fresh, leaving: leaving, report: report)) {
                    refused.insert(refusedKey)
                    ok = false
                }
            } else if !type.singleton {
                await stop(leaving, type: type, report: report)
            }
        }
        let unknown = rows.filter { row in !env.processTypes.contains { $0.name == row.type } }
        if !unknown.isEmpty { await stop(unknown, type: nil, report: report) }
        return ok
    }

    /// A routed type's move: its new processes are gated on `health:`, then served (and the old ones no longer) in
    /// one write, the table pushed, the old ones drained and stopped. A gate that fails stops the new ones: the
    /// old keep serving the path. Returns false then.
    func switchRoute(_ env: EnvironmentConfig, _ type: ProcessTypeSettings, route: RouteMatch, fresh: [WorkerRecord], leaving: [WorkerRecord],
                     report: (@Sendable (String) -> Void)?) async -> Bool {
        if !fresh.isEmpty {
            let ports = fresh.map(\.port), settings = env.health
            let prober = HealthProber()
            let outcome = try? await HealthGate(clock: ContinuousClock(), settings: settings).run(instances: fresh.count) { i in
                await prober.probe(port: ports[i], path: settings.path, timeout: settings.timeout)
            }
            guard outcome == .ready else {
                report?("\(type.name) of \(fresh[0].release) was not ready within \(DurationParsing.format(settings.deadline)) (\(settings.path)); "
                        + "\(leaving.isEmpty ? "nothing serves" : "the old ones keep serving") \(route.path ?? "")")
                await stop(fresh, type: type, report: nil)
                return false
            }
        }
        guard !fresh.isEmpty || !leaving.isEmpty else { return true }
        guard logger.write("switch \(env.name)/\(type.name)", to: store, { () throws(SlipwayError) in try store.workers.serve(fresh, stop: leaving) }) != nil else { return false }
        await routing.pushLogged()
        if let old = leaving.first(where: { $0.serving })?.release {
            let left = await routing.waitForDrain(environment: "\(env.name)/\(type.name)", pool: old, timeout: env.router.drainTimeout)
            if left > 0 { report?("drain timeout: \(left) request(s) still in flight on \(type.name) of \(old)") }
        }
        if let release = fresh.first?.release { report?("\(type.name) of \(release) serves \(route.path ?? "")") }
        await stop(leaving.map { var w = $0; w.serving = false; return w }, type: type, report: report)
        return true
    }

    /// Starts and records one process (or adopts the one a dead daemon started and did not record).
    private func start(_ env: EnvironmentConfig, app: String, type: ProcessTypeSettings, release: String, slot: Int) async -> WorkerRecord? {
        let name = "\(env.name)-\(release)-\(type.name)-\(slot)"
        if let adopted = await orphan(name, env: env, type: type, release: release, slot: slot) { return adopted }
        do {
            let w = try await supervisor.startWorker(app: app, env: env, type: type, release: release, slot: slot)
            try store.workers.save(w)
            logger.info("started process", metadata: ["worker": "\(w.name)", "worker.pid": "\(w.pid)"])
            return w
        } catch {
            logger.error("cannot start process", metadata: ["worker": "\(name)", "error": "\(error.message)"])
            return nil
        }
    }

    /// A process a dead daemon started for slot `name` and never recorded (found by its SLIPWAY_INSTANCE): an unrouted
    /// one is adopted; a routed one (its port unknown) is stopped, and nil tells the caller to start a new one.
    private func orphan(_ name: String, env: EnvironmentConfig, type: ProcessTypeSettings, release: String, slot: Int) async -> WorkerRecord? {
        guard let pid = ProcessInspector.processes(withEnvironment: ["SLIPWAY_INSTANCE": name, "SLIPWAY_SHARED": config.sharedDirectory(env.name)]).first,
              let stat = ProcessInspector.alive(pid: pid, startTime: 0) else { return nil }
        if type.route != nil {
            logger.notice("stopping a routed process no record named (its port is unknown)", metadata: ["worker": "\(name)", "worker.pid": "\(pid)"])
            _ = await ProcessGroup.stop(pid, startTime: stat.startTime, timeout: type.process.stopTimeout, first: type.stopSignal.number)
            return nil
        }
        var adopted = WorkerRecord(environment: env.name, type: type.name, release: release, slot: slot, pid: pid, procStartTime: Int64(stat.startTime),
                                   logFile: "\(config.logsDirectory)/\(name).log")
        adopted.startedAt = Date()
        save(adopted)
        logger.notice("found a process running that no record named; adopted it", metadata: ["worker": "\(name)", "worker.pid": "\(pid)"])
        return adopted
    }

    /// Stops `workers` side by side: each recorded as stopping first, then its group gets the type's signal and,
    /// after its `stop_timeout`, SIGKILL; the row goes once the group is empty.
    func stop(_ workers: [WorkerRecord], type: ProcessTypeSettings?, report: (@Sendable (String) -> Void)?) async {
        guard !workers.isEmpty else { return }
        let signal = type?.stopSignal ?? .term
        let timeout = type?.process.stopTimeout ?? .seconds(10)
        for var w in workers where w.state != .stopping {
            w.state = .stopping
            save(w)
        }
        report?("stopping \(workers.count) \(type?.name ?? "unconfigured") process(es): \(workers.map { "\($0.release)-\($0.slot)" }.joined(separator: ", ")) "
                + "(\(signal.rawValue), up to \(DurationParsing.format(timeout)))")
        let killed = await withTaskGroup(of: Bool.self) { group in
            for w in workers where w.pid > 0 {
                group.addTask {
                    // An image release's container is stopped by its runtime (the signal goes to the container's own processes).
                    let runtime = await self.supervisor.containerRuntime(of: w.release)
                    return await self.supervisor.stopStarted(pid: w.pid, startTime: UInt64(w.procStartTime),
                                                             container: runtime.map { ($0, [w.environment, w.release, w.type, String(w.slot)]) },
                                                             timeout: timeout, first: signal.number).killed
                }
            }
            var killed = 0
            for await k in group where k { killed += 1 }
            return killed
        }
        if killed > 0 { report?("\(killed) process(es) did not finish within \(DurationParsing.format(timeout)) and were killed") }
        for w in workers {
            supervisor.cgroup.release(name: w.name)
            delete(w)
        }
    }
}
