import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// `processes:` other than web: the unrouted types (workers, a clock). Each environment runs its serving
/// release's types, `instances` of each (or `slipway scale TYPE=N`'s count). A deployment moves them once its
/// web type serves the new release (`converge`, from the strategies' last step), so a deploy, rollback, promotion
/// or watch rollback moves every type together, and one that fails moves none. The `process-types` periodic job
/// keeps them running (a dead one starts again after a back-off of 1 s doubling to 30 s) and, when no deployment
/// holds the environment, converges it too (after a daemon restart, a scale, a config change). Owns the `workers`
/// and `process_scale` rows; like instances, the processes outlive the daemon and are found again by pid and start time.
public actor ProcessTypes: FeatureObject {
    nonisolated let context: EngineContext
    /// The route table: a routed type's switch pushes it.
    let routing: Routing
    /// Per worker name: when it may start again after a crash.
    private var notBefore: [String: ContinuousClock.Instant] = [:]
    /// Environments an in-place restore holds down (none of their workers runs meanwhile).
    var held: Set<String> = []
    /// Environments whose processes a pass, a deployment's move, a scale or a hold is changing: one at a time,
    /// since each reads the rows, then awaits starts and stops (another would read the same rows and start a slot twice).
    private var busy: Set<String> = []
    /// `env/type/release` of routed types whose new processes failed their gate: the passes do not start them again.
    var refused: Set<String> = []

    /// Runs `body` while no other change to `environment`'s processes runs.
    func exclusively<T: Sendable>(_ environment: String, _ body: () async -> T) async -> T {
        while busy.contains(environment) { try? await Task.sleep(for: .milliseconds(5)) }
        busy.insert(environment)
        defer { busy.remove(environment) }
        return await body()
    }

    init(context: EngineContext, routing: Routing) {
        self.context = context
        self.routing = routing
    }

    static let maxBackoff = Duration.seconds(30)

    /// One pass (the `process-types` job).
    func supervise() async {
        let cfg = config
        for name in cfg.environmentNames where !held.contains(name) {
            guard let env = cfg.environments[name] else { continue }
            await exclusively(name) {
                await restartCrashed(env, app: cfg.app)
                // Read after the restarts' awaits: a deployment that took the environment meanwhile moves its types itself.
                let locked = ((try? store.locks()) ?? []).contains { $0.environment == name }
                guard !locked, let record = try? store.environment(name) else { return }
                await converging(env, app: cfg.app, to: record.currentRelease, report: nil)
            }
        }
    }

    /// Notices exits and starts crashed workers of their own release again after the back-off.
    private func restartCrashed(_ env: EnvironmentConfig, app: String) async {
        for var w in (try? store.workers.all(environment: env.name)) ?? [] {
            if w.pid > 0 {
                guard !Self.running(w) else {
                    if w.crashes > 0, Date().timeIntervalSince(w.startedAt) > 10 {
                        w.crashes = 0  // up for ten seconds: its crashes are forgiven
                        save(w)
                    }
                    continue
                }
                if w.state == .stopping {
                    delete(w)  // a stop a dead daemon began
                    continue
                }
                let status = ProcessInspector.reapedStatus(w.pid).map { " (exit status \($0))" } ?? ""
                logger.warning("process exited; starting it again after a back-off", metadata: ["worker": "\(w.name)", "worker.pid": "\(w.pid)", "worker.status": "\(status)"])
                w.pid = 0
                w.procStartTime = 0
                w.crashes += 1
                save(w)
                notBefore[w.name] = ContinuousClock.now + Self.backoff(w.crashes)
                continue
            }
            guard w.state == .running, let type = env.processTypes.first(where: { $0.name == w.type }) else { continue }
            if let next = notBefore[w.name], ContinuousClock.now < next { continue }
            do {
                var started = try await supervisor.startWorker(app: app, env: env, type: type, release: w.release, slot: w.slot)
                started.restarts = w.restarts + 1
                started.crashes = w.crashes
                started.serving = w.serving
                try store.workers.save(started)
                if started.serving { await routing.pushLogged() }  // its new port
                logger.info("restarted process", metadata: ["worker": "\(w.name)", "worker.pid": "\(started.pid)", "worker.restarts": "\(started.restarts)"])
            } catch {
                notBefore[w.name] = ContinuousClock.now + Self.backoff(w.crashes + 1)
                logger.error("cannot restart process", metadata: ["worker": "\(w.name)", "error": "\(error.message)"])
            }
        }
    }

    /// Whether the record's process runs (its pid with its start time).
    nonisolated static func running(_ w: WorkerRecord) -> Bool {
        w.pid > 0 && ProcessInspector.isAlive(pid: w.pid, startTime: UInt64(w.procStartTime))
    }

    /// How many of `type` run while `serving` serves: `slipway scale`'s count, else the config's; a singleton at most one.
    nonisolated static func wanted(_ type: ProcessTypeSettings, scale: [String: Int], serving: String?) -> Int {
        guard serving != nil else { return 0 }
        let n = scale[type.name] ?? type.process.instances
        return type.singleton ? min(n, 1) : n
    }

    /// 1 s after the first crash, doubling, at most 30 s.
    nonisolated static func backoff(_ crashes: Int) -> Duration { min(.seconds(1 << min(max(crashes, 1) - 1, 6)), maxBackoff) }

    func save(_ w: WorkerRecord) {
        logger.write("save process \(w.name)", to: store) { () throws(SlipwayError) in try store.workers.save(w) }
    }

    func delete(_ w: WorkerRecord) {
        logger.write("delete process \(w.name)", to: store) { () throws(SlipwayError) in try store.workers.delete(w) }
        notBefore[w.name] = nil
    }
}

extension ProcessTypes {
    /// `status`: each configured type, what it wants while `serving` serves, and its processes.
    func listed(_ env: EnvironmentConfig, serving: String?) throws(SlipwayError) -> [ProcessTypeInfo] {
        let rows = try store.workers.all(environment: env.name)
        let scale = try store.workers.scale(environment: env.name)
        return env.processTypes.map { type in
            let wanted = Self.wanted(type, scale: scale, serving: serving)
            let processes = rows.filter { $0.type == type.name }.map { w in
                let state: ProcessTypeInfo.Process.State = w.state == .stopping ? .stopping : (Self.running(w) ? .running : .crashed)
                var p = ProcessTypeInfo.Process(release: w.release, slot: w.slot, pid: state == .crashed ? nil : w.pid, state: state,
                                                restarts: w.restarts, startedAt: w.startedAt, logFile: w.logFile)
                if type.route != nil {
                    p.port = w.port
                    p.serving = w.serving
                }
                return p
            }
            var info = ProcessTypeInfo(name: type.name, wanted: wanted, singleton: type.singleton, processes: processes)
            info.route = type.route?.path
            return info
        }
    }
}
