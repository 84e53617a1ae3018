import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// Runs the app's instances: starts them on free ports with their environment, stops them
/// (SIGTERM, then SIGKILL after stop_timeout), restarts crashed ones with exponential back-off,
/// probes readiness of serving instances, and rotates their logs. Instances outlive the daemon.
public actor Supervisor {
    let store: SlipwayStore
    let logsDirectory: String
    let releases: ReleaseStore
    /// `<root>/shared`: each environment's SLIPWAY_SHARED is its own directory below it.
    let sharedRoot: String
    let prober = HealthProber(keepAlive: true)
    /// Where `process.memory_limit` is enforced, when a cgroup is delegated.
    public let cgroup: CgroupLimiter
    let logger: Logger
    /// This binary: the app's programs start through `slipway launch` (Supervisor+Confinement).
    let launcher: String
    /// Starts and stops image releases' containers (named and labelled with the app's name).
    nonisolated let containers: ContainerRunner
    var secrets: Secrets
    var trackers: [Int64: ReadinessTracker] = [:]
    var crashedAt: [Int64: ContinuousClock.Instant] = [:]
    var lastProbe: [Int64: ContinuousClock.Instant] = [:]
    /// Consecutive failed liveness probes, per instance.
    var liveFailures: [Int64: Int] = [:]
    /// Failed health probes (readiness and liveness) per instance since this daemon started.
    var healthFailureCounts: [Int64: Int] = [:]
    /// The last CPU reading per instance, to turn CPU seconds into a share of a core.
    var cpuReadings: [Int64: (pid: Int32, cpu: Double, at: ContinuousClock.Instant)] = [:]
    var lastLiveProbe: [Int64: ContinuousClock.Instant] = [:]
    /// When each instance's log size was last looked at: every few seconds, not every pass.
    var lastRotateCheck: [Int64: ContinuousClock.Instant] = [:]
    static let maxLogBytes: UInt64 = 10 << 20
    static let rotateCheckInterval = Duration.seconds(5)
    /// When each instance's process was last checked against /proc (pid and start time).
    var lastFullCheck: [Int64: ContinuousClock.Instant] = [:]
    /// Per instance of an image release: its container's cgroup (what it uses), found once it runs.
    var containerCgroups: [Int64: ContainerCgroup] = [:]
    /// When each container's cgroup was last looked for (again every 5 s until found).
    var cgroupLookups: [Int64: ContinuousClock.Instant] = [:]
    static let fullCheckInterval = Duration.seconds(5)

    public init(store: SlipwayStore, root: String, secrets: Secrets, cgroup: CgroupLimiter = CgroupLimiter(path: nil), launcher: String, app: String = "",
                logger: Logger) {
        self.containers = ContainerRunner(app: app, logsDirectory: root + "/logs")
        self.cgroup = cgroup
        self.launcher = launcher
        self.store = store
        self.logsDirectory = root + "/logs"
        self.releases = ReleaseStore(directory: root + "/releases")
        self.sharedRoot = root + "/shared"
        self.secrets = secrets
        self.logger = logger
    }

    public func reloadSecrets(_ s: Secrets) { secrets = s }

    /// The few of the daemon's own variables what it starts (instances, accessories) gets; nothing else of its environment.
    nonisolated static func daemonVariables() -> [String: String] {
        ProcessInfo.processInfo.environment.filter { ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER"].contains($0.key) }
    }

    /// The environment an instance runs with: a few of the daemon's variables, `process.env`, the named secrets, and Slipway's.
    public func environment(app: String, env: EnvironmentConfig, release: String, slot: Int, port: Int) throws(SlipwayError) -> [String: String] {
        try variables(app: app, env: env, settings: env.process, release: release, instance: "\(env.name)-\(release)-\(slot)", port: port)
    }

    /// What a process of `settings` (the web type's, or another type's) runs with: a few of the daemon's variables,
    /// its `env`, its named secrets, and Slipway's; PORT when it is given one.
    func variables(app: String, env: EnvironmentConfig, settings: ProcessSettings, release: String, instance: String, port: Int?) throws(SlipwayError) -> [String: String] {
        var e = Self.daemonVariables()
        for (k, v) in settings.env { e[k] = v }
        for (k, v) in try secrets.resolve(settings.secrets, environment: env.name) { e[k] = v }
        if let port { e["PORT"] = String(port) }
        e["SLIPWAY_APP"] = app
        e["SLIPWAY_ENV"] = env.name
        e["SLIPWAY_RELEASE"] = release
        e["SLIPWAY_INSTANCE"] = instance
        e["SLIPWAY_SHARED"] = sharedRoot + "/" + env.name
        return e
    }

    /// Starts one instance of `release` and records it (state `starting`, or `state`).
    public func start(app: String, env: EnvironmentConfig, release: String, slot: Int, state: InstanceState = .starting) throws(SlipwayError) -> InstanceRecord {
        let port = try PortAllocator.freePort()
        let logFile = "\(logsDirectory)/\(env.name)-\(release)-\(slot).log"
        let child = try spawn(app: app, env: env, release: release, slot: slot, port: port, logFile: logFile)
        confine(child.pid, environment: env.name, release: release, slot: slot, limit: env.process.memoryLimit)
        let record = InstanceRecord(environment: env.name, release: release, slot: slot, port: port, pid: child.pid,
                                    procStartTime: Int64(child.startTime), state: state, logFile: logFile)
        let saved = try store.save(record)
        self.record(.started, saved)
        logger.info("started instance", metadata: ["instance.env": "\(env.name)", "release.version": "\(release)",
                                                     "instance.slot": "\(slot)", "instance.pid": "\(child.pid)", "instance.port": "\(port)"])
        return saved
    }

    private func spawn(app: String, env: EnvironmentConfig, release: String, slot: Int, port: Int, logFile: String) throws(SlipwayError) -> ProcessSpawner.Spawned {
        let dir = releases.path(release)
        guard FileManager.default.fileExists(atPath: dir) else { throw .notFound("release \(release) does not exist (slipway releases lists them)") }
        let vars = try environment(app: app, env: env, release: release, slot: slot, port: port)
        return try spawnRelease(env.process, key: "process", release: release, name: [env.name, release, String(slot)], environment: vars, logFile: logFile)
    }

    /// Stops the instance's whole process group (SIGTERM, then SIGKILL after `timeout`) and removes its
    /// record once the group is empty: a launcher that forked leaves nothing behind holding the port.
    public func stop(_ instance: InstanceRecord, timeout: Duration) async {
        var i = instance
        i.state = .stopping
        logger.write("save an instance", to: store) { () throws(SlipwayError) in try store.save(i) }
        let outcome = await stopStarted(pid: i.pid, startTime: UInt64(i.procStartTime),
                                        container: containerRuntime(of: i.release).map { ($0, [i.environment, i.release, String(i.slot)]) }, timeout: timeout)
        if outcome.killed { logger.warning("instance ignored SIGTERM; killed", metadata: ["instance.pid": "\(i.pid)"]) }
        if !outcome.stopped { logger.error("instance's processes survived SIGKILL", metadata: ["instance.pid": "\(i.pid)"]) }
        prober.forget(port: i.port)
        cgroup.release(name: Self.cgroupName(environment: i.environment, release: i.release, slot: i.slot))
        if let id = i.id {
            logger.write("delete an instance", to: store) { () throws(SlipwayError) in try store.deleteInstance(id) }
            trackers[id] = nil
            crashedAt[id] = nil
            lastProbe[id] = nil
            liveFailures[id] = nil
            lastLiveProbe[id] = nil
            lastRotateCheck[id] = nil
            lastFullCheck[id] = nil
            cpuReadings[id] = nil
            healthFailureCounts[id] = nil
            containerCgroups[id] = nil
            cgroupLookups[id] = nil
        }
        record(.stopped, i)
    }

    static func cgroupName(environment: String, release: String, slot: Int) -> String { "\(environment)-\(release)-\(slot)" }

    /// Moves a new instance process into its own cgroup with the memory limit (when one is delegated).
    /// `name`: the cgroup's (nil: the web instance's, `env-release-slot`).
    func confine(_ pid: Int32, environment: String, release: String, slot: Int, limit: Int64?, name: String? = nil) {
        guard cgroup.enforces else { return }
        if let problem = cgroup.confine(pid: pid, name: name ?? Self.cgroupName(environment: environment, release: release, slot: slot), memoryLimit: limit) {
            logger.error("memory limit not applied", metadata: ["instance.pid": "\(pid)", "error": "\(problem)"])
        }
    }

    /// An instance's entry in the event log.
    func record(_ change: EventPayload.Instance.Change, _ i: InstanceRecord) {
        store.record(Event(environment: i.environment, payload: .instance(.init(change: change, release: i.release, slot: i.slot, pid: i.pid,
                                                                            port: i.port, restarts: i.restarts > 0 ? i.restarts : nil))), orLog: logger)
    }

    public func stopAll(_ instances: [InstanceRecord], timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            for i in instances { group.addTask { await self.stop(i, timeout: timeout) } }
        }
    }

    /// Marks instances as serving: they start with a ready verdict (the gate just proved it).
    public func markServing(_ ids: [Int64], healthy: Int, unhealthy: Int) {
        for id in ids { trackers[id] = ReadinessTracker(healthyThreshold: healthy, unhealthyThreshold: unhealthy, initiallyReady: true) }
    }

    public func logTail(_ instance: InstanceRecord, lines: Int = 15) -> String {
        guard let text = try? String(contentsOfFile: instance.logFile, encoding: .utf8) else { return "(no output)" }
        let tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1).joined(separator: "\n")
        return tail.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "(no output)" : tail
    }
}
