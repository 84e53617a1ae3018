import Foundation

public enum DeployStrategy: String, Codable, Sendable, CaseIterable {
    case recreate
    case blueGreen = "blue-green"
    case rolling
    case canary
}

/// `rolling:`: replace instances `batch` at a time, each batch gated on health; `max_surge` new instances
/// may run beyond `process.instances` meanwhile (0: stop old ones first). Capacity never drops below
/// `instances - batch`.
public struct RollingSettings: Sendable, Equatable {
    public var batch: Int
    public var maxSurge: Int
    public init(batch: Int = 1, maxSurge: Int = 1) {
        self.batch = batch
        self.maxSurge = maxSurge
    }
}

/// A validated `slipway.yml`, with every environment resolved (its overrides deep-merged over the top level).
public struct SlipwayConfig: Sendable, Equatable {
    public var file: String
    public var directory: String
    public var app: String
    /// Absolute path of the state root (state.db, releases/, shared/, logs/, the socket).
    public var root: String
    public var release: ReleaseSettings
    public var keepReleases: Int
    /// Environment names in file order.
    public var environmentNames: [String]
    public var environments: [String: EnvironmentConfig]
    /// `server:`: the API's TCP listener (tokens required there), besides the admin socket.
    public var server = ServerSettings()
    /// `webhooks:`: pushes and tags that build and deploy releases.
    public var webhooks: [WebhookSettings] = []
    /// `alerts:`: judged in every environment, beside the built-in ones.
    public var alerts: [AlertSettings] = []
    /// `notify:`: where events are sent, through the outbox.
    public var notify: [NotifySettings] = []
    /// `logs.retention`: files under `<root>/logs` not written for this long are removed.
    public var logRetention: Duration = .seconds(30 * 86_400)
    /// The state directory given instead of the file's `root` (`slipway server --root`); a reload keeps it.
    public var rootOverride: String?
    /// `ssh:`: how the CLI reaches fleet hosts.
    public var ssh = SSHSettings()
    /// `state:`: shared state for fleets (PostgreSQL), when several operators deploy them.
    public var state = SharedStateSettings()
    /// `https_hosts:`: the token and CA for hosts listed as `https://HOST:PORT`.
    public var httpsHosts = HTTPSHostSettings()

    public init(
        file: String, directory: String, app: String, root: String, release: ReleaseSettings,
        keepReleases: Int, environmentNames: [String], environments: [String: EnvironmentConfig]
    ) {
        self.file = file
        self.directory = directory
        self.app = app
        self.root = root
        self.release = release
        self.keepReleases = keepReleases
        self.environmentNames = environmentNames
        self.environments = environments
    }

    public var socketPath: String { root + "/slipway.sock" }
    /// The shared edge this app's routes go to (`router.edge`, the same for every environment); nil: its own router.
    public var edgeSocket: String? { environmentNames.lazy.compactMap { self.environments[$0]?.router.edge }.first }
    public var releasesDirectory: String { root + "/releases" }
    public var logsDirectory: String { root + "/logs" }
    /// `<root>/shared`: one directory per environment below it.
    public var sharedRoot: String { root + "/shared" }
    /// `<root>/shared/<env>`: the environment's files that outlive releases (the app's SLIPWAY_SHARED).
    public func sharedDirectory(_ environment: String) -> String { sharedRoot + "/" + environment }
    /// `<root>/secrets`: one `<env>.env` file per environment (0600), read before the common `secrets.env`.
    public var secretsDirectory: String { root + "/secrets" }
    public var databasePath: String { root + "/state.db" }

    /// The environment a command means: the one named, or the only one, or `production`.
    public func environment(_ name: String?) throws(SlipwayError) -> EnvironmentConfig {
        if let name {
            guard let env = environments[name] else {
                throw .usage("unknown environment '\(name)'; \(file) defines: \(environmentNames.joined(separator: ", "))")
            }
            return env
        }
        if environmentNames.count == 1, let env = environments[environmentNames[0]] { return env }
        if let env = environments["production"] { return env }
        throw .usage("several environments are defined (\(environmentNames.joined(separator: ", "))); pass --env")
    }
}

extension EnvironmentConfig {
    /// Every secret the environment's configuration names: the process's and the backup section's.
    public var secretNames: [String] {
        var names = process.secrets
        for n in backup?.secretNames ?? [] where !names.contains(n) { names.append(n) }
        return names
    }
}

public struct ServerSettings: Sendable, Equatable {
    /// The API over TCP (CI jobs, scripts, the dashboard); nil: the admin socket only. Loopback unless `tls` is set.
    public var listen: ListenAddress?
    /// `server.tls`: the listener speaks HTTPS with this certificate chain and key.
    public var tls: TLSFiles?
    /// `server.cgroup`: a cgroup v2 directory delegated to Slipway, where `process.memory_limit` is enforced.
    public var cgroup: String?
    public init(listen: ListenAddress? = nil, tls: TLSFiles? = nil, cgroup: String? = nil) {
        self.listen = listen
        self.tls = tls
        self.cgroup = cgroup
    }
}

/// Absolute paths of a PEM certificate chain and its private key.
public struct TLSFiles: Sendable, Equatable {
    public var cert: String
    public var key: String
    public init(cert: String, key: String) {
        self.cert = cert
        self.key = key
    }
}

public struct ReleaseSettings: Sendable, Equatable {
    public var build: String?
    public var files: [String]
    /// `release.git`: where webhooks take commits from.
    public var git: GitSourceSettings?
    public init(build: String? = nil, files: [String] = []) {
        self.build = build
        self.files = files
    }
}

public struct EnvironmentConfig: Sendable, Equatable {
    public var name: String
    public var process: ProcessSettings
    public var health: HealthSettings
    public var router: RouterSettings
    public var strategy: DeployStrategy
    /// How long the previous release's instances stay warm after a blue-green switch.
    public var keepWarm: Duration
    public var backup: BackupSettings?
    public var migrate: MigrateSettings?
    /// The rules that judge a release from live traffic (used from the progressive-delivery work on).
    public var analysis: AnalysisSettings?
    public var hooks = HookSettings()
    public var rolling = RollingSettings()
    public var canary = CanarySettings()
    /// `autoscale:`: the instance count follows a rule within min…max.
    public var autoscale: AutoscaleSettings?
    /// Deploy windows and freezes.
    public var governance = GovernanceSettings()
    /// After a switch, how long the previous release stays warm while the new one is watched (0: no watch).
    public var watch: Duration = .seconds(600)
    /// `accessories:`: the environment's own long-lived services, by name.
    public var accessories: [AccessorySettings] = []
    /// `processes:` other than `web` (which is `process`): unrouted types (workers, a clock), by name.
    public var processTypes: [ProcessTypeSettings] = []
    /// `runtime:`: processes (the default), or containers of image releases run by podman or docker.
    public var runtime = ContainerRuntime.process
    /// `hosts:`: the ssh destinations this environment runs on (empty: this host, through its own daemon).
    public var hosts: [String] = []
    /// `fleet:`: how a deploy moves across `hosts`.
    public var fleet = FleetSettings()

    /// The settings of process type `name` (`web`: `process`).
    public func processSettings(_ type: String) -> ProcessSettings? {
        type == ProcessTypeSettings.web ? process : processTypes.first { $0.name == type }?.process
    }

    public init(
        name: String, process: ProcessSettings, health: HealthSettings = .init(), router: RouterSettings,
        strategy: DeployStrategy = .blueGreen, keepWarm: Duration = .seconds(600)
    ) {
        self.name = name
        self.process = process
        self.health = health
        self.router = router
        self.strategy = strategy
        self.keepWarm = keepWarm
    }
}

public struct ProcessSettings: Sendable, Equatable {
    public var command: String
    public var instances: Int
    public var env: [String: String]
    public var secrets: [String]
    public var stopTimeout: Duration
    /// What `memory > 90%` is a share of (resident memory, from /proc); Slipway does not enforce it.
    public var memoryLimit: Int64?
    /// The user, group and limits an instance runs with.
    public var privileges = ProcessPrivileges()

    public init(
        command: String, instances: Int = 1, env: [String: String] = [:], secrets: [String] = [],
        stopTimeout: Duration = .seconds(10)
    ) {
        self.command = command
        self.instances = instances
        self.env = env
        self.secrets = secrets
        self.stopTimeout = stopTimeout
    }
}

public struct HealthSettings: Sendable, Equatable {
    public var path: String
    /// Liveness: an instance failing it `unhealthy_threshold` times in a row is killed and restarted.
    public var live: String?
    public var interval: Duration
    public var timeout: Duration
    public var healthyThreshold: Int
    public var unhealthyThreshold: Int
    public var deadline: Duration

    public init(
        path: String = "/health/ready", interval: Duration = .seconds(1), timeout: Duration = .seconds(2),
        healthyThreshold: Int = 2, unhealthyThreshold: Int = 3, deadline: Duration = .seconds(60)
    ) {
        self.path = path
        self.interval = interval
        self.timeout = timeout
        self.healthyThreshold = healthyThreshold
        self.unhealthyThreshold = unhealthyThreshold
        self.deadline = deadline
    }
}

public struct RouterSettings: Sendable, Equatable {
    public var listen: ListenAddress
    public var drainTimeout: Duration
    /// Connecting to an instance; past it the next instance is tried (the request never left), else 504.
    public var connectTimeout: Duration
    /// From the request fully sent to the response's head; past it, 504.
    public var responseTimeout: Duration
    /// A client connection with no request in progress is closed after this.
    public var idleTimeout: Duration
    /// Add `X-Forwarded-For/Proto/Host` to each request (an incoming `X-Forwarded-For` gets the client appended).
    public var forwardedHeaders = true
    /// Add `X-Request-Id` (the router's request id) to a request that has none.
    public var requestIdHeader = true
    /// `hosts`, `path` and `strip_prefix`: which requests on `listen` are this environment's when others
    /// share the address (nil: all of them).
    public var route: RouteMatch?
    /// `listen_tls`, `tls: { cert, key }`, `redirect_https`, `hsts` (nil: plain HTTP only).
    public var tls: RouterTLS?
    /// `edge:`: the shared edge's control socket (`slipway edge`); nil: the daemon's own router.
    public var edge: String?

    public init(listen: ListenAddress, drainTimeout: Duration = .seconds(10), connectTimeout: Duration = .seconds(3),
                responseTimeout: Duration = .seconds(60), idleTimeout: Duration = .seconds(75)) {
        self.listen = listen
        self.drainTimeout = drainTimeout
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.idleTimeout = idleTimeout
    }
}

public struct ListenAddress: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `:PORT` or `[v6]:PORT`.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// 127.0.0.0/8, ::1 or localhost.
    public var isLoopback: Bool { host == "localhost" || host == "::1" || host.hasPrefix("127.") }
}
