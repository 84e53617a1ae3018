import Foundation
import Logging
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime

/// A fleet host's apps (`slipway server --host-only`): under `<root>/apps/<app>/` each keeps the config snapshot a
/// controller staged (`slipway.yml`) and its own state (`state/`: releases, the SQLite store, logs, its secrets in
/// `state/secrets/<env>.env`). Each app runs its own daemon (`slipway server --config … --root …/state`, started by
/// this one, in a session of its own so it outlives it), which deploys, health-gates, supervises and rolls back
/// exactly as on a single host; this actor fences controllers by epoch and remembers what each fleet deployment
/// replaced (`HostLedger`, written before it acts).
actor HostApps {
    let root: String
    let executable: String
    let logger: Logger
    var ledger: HostLedger
    /// App daemons this process started (to reap them when they exit).
    var children: [Int32] = []

    init(root: String, executable: String, logger: Logger) throws(SlipwayError) {
        self.root = root
        self.executable = executable
        self.logger = logger
        ledger = try HostLedger.read(root + "/host.json")
    }

    nonisolated func directory(_ app: String) -> String { root + "/apps/" + app }
    nonisolated func configPath(_ app: String) -> String { directory(app) + "/slipway.yml" }
    nonisolated func stateRoot(_ app: String) -> String { directory(app) + "/state" }
    nonisolated func socket(_ app: String) -> String { stateRoot(app) + "/slipway.sock" }

    static func validApp(_ app: String) throws(SlipwayError) {
        guard ReleaseVersion.isSimpleName(app) else { throw .usage("expected an app name of a-z, 0-9 and '-', got '\(app)'") }
    }

    /// Keeps `yaml` as the app's config snapshot once it parses (with this host's root for the app), so a daemon
    /// started on it later cannot fail on the file.
    func setConfig(app: String, yaml: String) throws(SlipwayError) {
        try Self.validApp(app)
        let cfg: SlipwayConfig
        do { cfg = try ConfigLoader.parse(yaml: yaml, file: configPath(app), directory: directory(app), root: stateRoot(app)) } catch {
            throw SlipwayError(.usage, "the staged config does not parse on this host: \(error.problems.map(\.description).joined(separator: "; "))")
        }
        guard cfg.app == app else { throw .usage("the staged config is for app '\(cfg.app)', not '\(app)'") }
        do {
            try FileManager.default.createDirectory(atPath: stateRoot(app), withIntermediateDirectories: true)
            try Data(yaml.utf8).write(to: URL(fileURLWithPath: configPath(app)), options: .atomic)
        } catch {
            throw SlipwayError(.internal, "cannot write \(configPath(app))", cause: error)
        }
    }

    /// Unpacks a release the controller sent (checked against its digest) into the app's releases.
    func stage(app: String, version: String, digest: String, archive: String) async throws(SlipwayError) -> HostStageResult {
        try Self.validApp(app)
        guard FileManager.default.fileExists(atPath: configPath(app)) else { throw .usage("no config staged for \(app) on this host yet") }
        let store = ReleaseStore(directory: stateRoot(app) + "/releases")
        let (info, staged) = try await store.adopt(version: version, archive: archive, digest: digest, creator: "fleet")
        return HostStageResult(version: info.version, digest: info.digest, staged: staged)
    }

    /// The app's daemon, started when it does not answer.
    func daemon(_ app: String) async throws(SlipwayError) -> DaemonClient {
        let client = DaemonClient(socket: socket(app))
        if (try? await client.get("/v1/health", as: [String: String].self)) != nil { return client }
        reap()
        guard FileManager.default.fileExists(atPath: configPath(app)) else { throw .notFound("no app '\(app)' on this host (nothing staged)") }
        try? FileManager.default.createDirectory(atPath: stateRoot(app) + "/logs", withIntermediateDirectories: true)
        let child = try ProcessSpawner.spawn(argv: [executable, "server", "--config", configPath(app), "--root", stateRoot(app)], directory: directory(app),
                                             environment: ProcessInfo.processInfo.environment, logFile: stateRoot(app) + "/logs/daemon.log")
        children.append(child.pid)
        logger.info("started the app's daemon", metadata: ["app": "\(app)", "pid": "\(child.pid)"])
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? await client.get("/v1/health", as: [String: String].self)) != nil { return client }
            if ProcessInspector.reap(child.pid) != nil {
                throw .failed("the daemon of \(app) exited at start; see \(stateRoot(app))/logs/daemon.log")
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        throw SlipwayError(.unavailable, "the daemon of \(app) did not answer within 30 s; see \(stateRoot(app))/logs/daemon.log")
    }

    /// The app's router traffic per release of `environment` (empty when its daemon does not run).
    func traffic(app: String, environment: String) async throws(SlipwayError) -> [String: RequestCounts] {
        try await running(app, "/v1/traffic?env=\(Self.query(environment))")
    }

    /// Per release of `environment`, what a fleet canary judges here (empty when the app's daemon does not run).
    func samples(app: String, environment: String) async throws(SlipwayError) -> [String: ReleaseSample] {
        try await running(app, "/v1/traffic/releases?env=\(Self.query(environment))")
    }

    /// A read from the app's daemon when it runs (it is not started for it); empty when it does not answer.
    private func running<T: Decodable>(_ app: String, _ path: String) async throws(SlipwayError) -> [String: T] {
        try Self.validApp(app)
        return (try? await DaemonClient(socket: socket(app)).get(path, as: [String: T].self)) ?? [:]
    }

    /// What `rollback --with-data` to `version` would restore here (the app daemon's plan).
    func rollbackPlan(app: String, environment: String, version: String?) async throws(SlipwayError) -> DataRollbackPlan {
        try Self.validApp(app)
        return try await daemon(app).get("/v1/rollback/plan?env=\(Self.query(environment))" + (version.map { "&version=\(Self.query($0))" } ?? ""))
    }

    /// Maintenance on the app's environment (a fleet's data rollback holds the other hosts' requests while one restores).
    func maintenance(app: String, _ request: MaintenanceRequest) async throws(SlipwayError) {
        try Self.validApp(app)
        let _: HostIgnored = try await daemon(app).post("/v1/maintenance", request)
    }

    /// A query parameter's value, percent-encoded.
    static func query(_ value: String) -> String { value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value }

    func reap() { children.removeAll { ProcessInspector.reap($0) != nil } }

    func fence(app: String, environment: String, epoch: Int64) throws(SlipwayError) {
        var next = ledger
        try next.fence(app: app, environment: environment, epoch: epoch)
        try save(next)
    }

    /// The fleet lease of the app's environment (this is its first host): taken, renewed or given back.
    func lease(app: String, _ r: HostLeaseRequest, now: Date = Date()) throws(SlipwayError) -> FleetLease {
        try Self.validApp(app)
        var next = ledger
        if r.release {
            let gone = next.unlease(app: app, environment: r.environment, holder: r.holder)
            try save(next)
            return FleetLease(holder: r.holder, epoch: ledger.epoch(app: app, environment: r.environment), expires: now, granted: gone)
        }
        let lease = next.lease(app: app, environment: r.environment, holder: r.holder, ttl: .seconds(max(1, min(r.ttlSeconds, 3600))), now: now)
        try save(next)
        return lease
    }

    func save(_ next: HostLedger) throws(SlipwayError) {
        guard next != ledger else { return }
        try next.write(root + "/host.json")
        ledger = next
    }

    static func current(_ client: DaemonClient, environment: String) async throws(SlipwayError) -> EnvironmentStatus? {
        let all: [EnvironmentStatus] = try await client.get("/v1/status?env=\(environment)")
        return all.first { $0.name == environment }
    }
}

/// An answer whose content does not matter (only that it came back 2xx).
struct HostIgnored: Decodable {
    init(from decoder: any Decoder) throws {}
}
