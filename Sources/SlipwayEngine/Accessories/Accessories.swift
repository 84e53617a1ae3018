import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// `accessories:`: each environment's long-lived services (Redis, NATS). Started once and kept running by the
/// `accessories` periodic job (a dead one starts again after a back-off of 1 s doubling to 60 s); a deploy,
/// rollback, canary, scale or `down` never touches them. Only `slipway accessory start|stop|restart` does, each
/// audited and written before it acts. Like instances, they outlive the daemon and are found again by pid and
/// start time. Owns the `accessories` rows; runs as the accessory's `user:` (Supervisor+Confinement).
public actor Accessories: FeatureObject {
    nonisolated let context: EngineContext
    /// Per `env/name`: when the next start may happen after a crash (the crashes in a row are on the row).
    private var notBefore: [String: ContinuousClock.Instant] = [:]
    /// Environments whose accessories an in-place restore holds down (Accessories+Hold).
    var held: Set<String> = []

    init(context: EngineContext) { self.context = context }

    static let maxBackoff = Duration.seconds(60)

    /// One pass (the `accessories` job): every configured accessory that is wanted runs.
    func supervise() async {
        let cfg = config
        for name in cfg.environmentNames where !held.contains(name) {
            guard let env = cfg.environments[name] else { continue }
            for a in env.accessories { await keep(a, env: env) }
        }
    }

    func keep(_ a: AccessorySettings, env: EnvironmentConfig) async {
        let key = "\(env.name)/\(a.name)"
        let record: AccessoryRecord?
        do { record = try store.accessories.find(environment: env.name, name: a.name) } catch {
            logger.error("cannot read accessory", metadata: ["accessory": "\(key)", "error": "\(error)"])
            return
        }
        if let record, !record.wanted { return }
        if let record, Self.running(record) {
            // Up for ten seconds: its crashes are forgiven.
            if record.crashes > 0, Date().timeIntervalSince(record.startedAt) > 10 {
                var forgiven = record
                forgiven.crashes = 0
                logger.write("save accessory \(key)", to: store) { () throws(SlipwayError) in try store.accessories.save(forgiven) }
            }
            return
        }
        if var record, record.pid > 0 {
            // It died: remembered as crashed (pid 0), started again after the back-off.
            let status = ProcessInspector.reapedStatus(record.pid).map { " (exit status \($0))" } ?? ""
            logger.warning("accessory exited; starting it again after a back-off", metadata: ["accessory": "\(key)", "accessory.pid": "\(record.pid)",
                                                                                             "accessory.status": "\(status)"])
            record.pid = 0
            record.procStartTime = 0
            record.crashes += 1
            logger.write("save accessory \(key)", to: store) { () throws(SlipwayError) in try store.accessories.save(record) }
            notBefore[key] = ContinuousClock.now + Self.backoff(record.crashes)
            return
        }
        if let next = notBefore[key], ContinuousClock.now < next { return }
        if adopt(a, env: env, record: record) { return }
        do { try await start(a, env: env, after: record) } catch {
            logger.error("cannot start accessory", metadata: ["accessory": "\(key)", "error": "\(error.message)"])
            notBefore[key] = ContinuousClock.now + Self.backoff((record?.crashes ?? 0) + 1)
        }
    }

    func forgetBackoff(_ key: String) { notBefore[key] = nil }

    /// Whether the record's process runs (its pid with its start time; zombies count as gone and are reaped).
    nonisolated static func running(_ r: AccessoryRecord?) -> Bool {
        r.map { ProcessInspector.isAlive(pid: $0.pid, startTime: UInt64($0.procStartTime)) } ?? false
    }

    /// `<root>/logs/accessory-<env>-<name>.log`: the accessory's output.
    func logFile(_ environment: String, _ name: String) -> String { "\(config.logsDirectory)/accessory-\(environment)-\(name).log" }

    /// A daemon that died between starting an accessory and recording it left it running unknown: found by the
    /// variables it was started with (`SLIPWAY_ACCESSORY`, `SLIPWAY_ENV`, `SLIPWAY_SHARED`) and recorded, not
    /// started a second time.
    private func adopt(_ a: AccessorySettings, env: EnvironmentConfig, record: AccessoryRecord?) -> Bool {
        let found = ProcessInspector.processes(withEnvironment: ["SLIPWAY_ACCESSORY": a.name, "SLIPWAY_ENV": env.name,
                                                                 "SLIPWAY_SHARED": config.sharedDirectory(env.name)])
        guard let pid = found.first, let started = ProcessInspector.alive(pid: pid, startTime: 0)?.startTime else { return false }
        var adopted = AccessoryRecord(environment: env.name, name: a.name, wanted: true, pid: pid, procStartTime: Int64(started),
                                      restarts: record?.restarts ?? 0, startedAt: Date(), startedWith: a.fingerprint,
                                      logFile: logFile(env.name, a.name))
        adopted.crashes = record?.crashes ?? 0
        guard logger.write("record the adopted accessory \(env.name)/\(a.name)", to: store, { () throws(SlipwayError) in try store.accessories.save(adopted) }) != nil
        else { return false }
        logger.notice("found an accessory running that no record named; adopted it", metadata: ["accessory": "\(env.name)/\(a.name)", "accessory.pid": "\(pid)"])
        return true
    }

    /// 1 s after the first crash, doubling, at most a minute.
    nonisolated static func backoff(_ crashes: Int) -> Duration { min(.seconds(1 << min(max(crashes, 1) - 1, 6)), maxBackoff) }

    /// Starts the accessory's process in `shared/<env>/` and records it (before anything else can act on it).
    func start(_ a: AccessorySettings, env: EnvironmentConfig, after previous: AccessoryRecord?) async throws(SlipwayError) {
        let shared = config.sharedDirectory(env.name)
        var vars = Supervisor.daemonVariables()
        for (k, v) in a.env { vars[k] = v }
        vars["SLIPWAY_ENV"] = env.name
        vars["SLIPWAY_SHARED"] = shared
        vars["SLIPWAY_ACCESSORY"] = a.name
        let log = logFile(env.name, a.name)
        let child: ProcessSpawner.Spawned
        if let image = a.image {
            // A container: the client's environment carries the variables (adoption finds them there), the container gets them by name.
            let inside = ContainerRunner.variables(vars, declared: a.env)
            let args = a.args  // as given: no shell, no expansion
            child = try supervisor.containers.run(image, runtime: a.runtime, name: [env.name, "accessory", a.name], labels: ["accessory": a.name], command: args,
                                              inside: inside, memoryLimit: nil, stopSignal: nil, directory: shared, logFile: log)
        } else {
            let argv = try CommandLineSplitter.split(a.command, variables: vars)
            child = try await supervisor.spawnConfined(a.privileges, key: "accessories.\(a.name)", argv: argv, directory: shared, environment: vars, logFile: log)
        }
        // `accessory stop` may have been recorded while it started: the latest intent wins.
        if let now = try store.accessories.find(environment: env.name, name: a.name), !now.wanted {
            _ = await terminate(pid: child.pid, startTime: child.startTime, a, environment: env.name)
            return
        }
        var record = AccessoryRecord(environment: env.name, name: a.name, wanted: true, pid: child.pid, procStartTime: Int64(child.startTime),
                                     restarts: previous.map { $0.restarts + 1 } ?? 0, startedAt: Date(), startedWith: a.fingerprint, logFile: log)
        record.crashes = previous?.crashes ?? 0
        try store.accessories.save(record)
        logger.info("started accessory", metadata: ["accessory": "\(env.name)/\(a.name)", "accessory.pid": "\(child.pid)"])
    }

    /// Stops an accessory's process (an image one's container through its runtime first); whether SIGKILL was needed.
    func terminate(pid: Int32, startTime: UInt64, _ a: AccessorySettings?, environment: String) async -> Bool {
        let container = a.flatMap { a in a.image == nil ? nil : (a.runtime, [environment, "accessory", a.name]) }
        return await supervisor.stopStarted(pid: pid, startTime: startTime, container: container, timeout: a?.stopTimeout ?? .seconds(10)).killed
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    nonisolated static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
