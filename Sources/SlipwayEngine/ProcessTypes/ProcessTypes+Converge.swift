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
        await exclusively(env.name) { await converging(env, app: app, to: release, report: report) }
    }

    /// `converge` inside `exclusively`.
    @discardableResult
    func converging(_ env: EnvironmentConfig, app: String, to release: String?, report: (@Sendable (String) -> Void)?) async -> Bool {
        guard !held.contains(env.name), let rows = try? store.workers.all(environment: env.name) else { return false }
        let scale = (try? store.workers.scale(environment: env.name)) ?? [:]
        var ok = true
        for type in env.processTypes {
            let wanted = Self.wanted(type, scale: scale, serving: release)
            let mine = rows.filter { $0.type == type.name }
            let leaving = mine.filter { $0.release != release || $0.slot >= wanted || $0.state == .stopping }
            let staying = mine.filter { !leaving.contains($0) }
            if type.singleton { await stop(leaving, type: type, report: report) }
            if let release {
                let missing = (0..<wanted).filter { slot in !staying.contains { $0.slot == slot } }
                var started: [String] = []
                for slot in missing {
                    if let w = await start(env, app: app, type: type, release: release, slot: slot) { started.append("\(w.slot) (pid \(w.pid))") } else { ok = false }
                }
                if !started.isEmpty { report?("started \(started.count) \(type.name) process(es) of \(release): \(started.joined(separator: ", "))") }
            }
            if !type.singleton { await stop(leaving, type: type, report: report) }
        }
        let unknown = rows.filter { row in !env.processTypes.contains { $0.name == row.type } }
        if !unknown.isEmpty { await stop(unknown, type: nil, report: report) }
        return ok
    }

    /// Starts and records one process (or adopts the one a dead daemon started and did not record).
    private func start(_ env: EnvironmentConfig, app: String, type: ProcessTypeSettings, release: String, slot: Int) async -> WorkerRecord? {
        let name = "\(env.name)-\(release)-\(type.name)-\(slot)"
        if let pid = ProcessInspector.processes(withEnvironment: ["SLIPWAY_INSTANCE": name, "SLIPWAY_SHARED": config.sharedDirectory(env.name)]).first,
           let stat = ProcessInspector.alive(pid: pid, startTime: 0) {
            var adopted = WorkerRecord(environment: env.name, type: type.name, release: release, slot: slot, pid: pid, procStartTime: Int64(stat.startTime),
                                       logFile: "\(config.logsDirectory)/\(name).log")
            adopted.startedAt = Date()
            save(adopted)
            logger.notice("found a process running that no record named; adopted it", metadata: ["worker": "\(name)", "worker.pid": "\(pid)"])
            return adopted
        }
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
                    // An image release's container: stopped by its runtime (the signal goes to the container's own processes).
                    let container = await self.supervisor.stopContainer(release: w.release, name: [w.environment, w.release, w.type, String(w.slot)], timeout: timeout)
                    return await ProcessGroup.stop(w.pid, startTime: UInt64(w.procStartTime), timeout: container ? .seconds(5) : timeout, first: signal.number).killed
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
