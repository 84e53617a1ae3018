import Foundation

/// `environments.NAME.fleet`: how a deploy moves across the environment's `hosts`.
public struct FleetSettings: Sendable, Equatable {
    public enum Strategy: String, Sendable, Equatable, CaseIterable {
        case allAtOnce = "all_at_once", rolling
        /// `canary.hosts` first, judged on their routers' traffic against the other hosts', then the rest in batches.
        case canary
    }

    /// What a failed host does to the deploy: `rollback` (no new batch; hosts already switched revert, so the
    /// fleet ends uniform) or `halt` (no new batch; the fleet is left partial for `resume` or `rollback`).
    public enum OnFailure: String, Sendable, Equatable, CaseIterable {
        case rollback, halt
    }

    public var strategy = Strategy.rolling
    /// Hosts activated at once in a rolling deploy (a number, or a share of the hosts deployed to).
    public var batch = HostCount.count(1)
    /// At most this many hosts activating at once, whatever `batch` says (nil: `batch` decides).
    public var maxUnavailable: HostCount?
    /// Failed hosts a batch may have while the deploy goes on (a number, or a share of the batch): they keep what they
    /// served (their own health gate refused the release), the others go on, and the deploy ends `partial`.
    public var maxFailed = HostCount.count(0)
    /// How long to wait after a batch before the next one starts.
    public var pause: Duration = .zero
    public var onFailure = OnFailure.rollback
    /// How long one host's activation may take (its own health gate included) before it counts as failed.
    public var healthyDeadline: Duration = .seconds(120)
    /// How long the whole deploy may take (nil: no limit): once it has passed, no new batch starts and the deploy
    /// ends as a failed host would end it (`on_failure`).
    public var progressDeadline: Duration?
    /// How long the fleet lease lives without a renewal: a killed controller's lease frees itself after this.
    public var leaseTTL: Duration = .seconds(30)
    /// `canary: { hosts, analysis, promote }`: how many hosts go first, how long their traffic is judged, and whether a
    /// pass promotes the rest at once (`auto`) or the deploy stops there, `awaiting_promotion`, until `deploy resume ID`
    /// promotes it (`manual`; `deploy rollback ID` undoes it).
    public var canaryHosts = 1
    public var canaryAnalysis: Duration = .seconds(60)
    public var canaryPromote = Promote.auto

    public enum Promote: String, Sendable, Equatable { case auto, manual }

    /// `data`: where a deploy's data steps (`backup.before_deploy`, `migrate.up`; `backup.before_rollback`) run: `once`,
    /// on the first host of the first batch before any other host switches (one database the hosts share), or on
    /// `each_host` (a database on each host, like SQLite). nil: `each_host` when a backup source is a file on the host
    /// (sqlite, directory), else `once`.
    public var data: DataSteps?
    public enum DataSteps: String, Sendable, Equatable { case once, eachHost = "each_host" }

    /// `data`, or what the environment's backup sources suggest.
    public func dataSteps(backup: BackupSettings?) -> DataSteps {
        if let data { return data }
        let local = backup?.sources.contains { if case .sqlite = $0.kind { true } else if case .directory = $0.kind { true } else { false } } ?? false
        return local ? .eachHost : .once
    }

    public init() {}
}

/// `ssh:`: how the CLI reaches a fleet's hosts (the system's OpenSSH).
public struct SSHSettings: Sendable, Equatable {
    /// An ssh_config file (`ssh -F`); nil: the user's own (~/.ssh/config).
    public var config: String?
    /// The `slipway` binary on the hosts.
    public var slipway = "slipway"
    /// At most this many SSH connections are started at once.
    public var maxParallel = 30
    /// How often ssh checks a quiet connection; three missed answers end it (a host whose link went down fails then).
    public var keepAlive: Duration = .seconds(5)

    public init() {}
}

/// `state: { postgres: { url_secret: NAME } }`: where several operators' fleet deploys share their state (deployments,
/// per-host results, the event log, the audit chain, the lock and the epoch). The URL itself is a secret: the config
/// names the environment variable that holds it, never the value.
public struct SharedStateSettings: Sendable, Equatable {
    /// The environment variable holding a `postgres://USER:PASSWORD@HOST:PORT/DATABASE` URL; nil: no shared state
    /// (a fleet then keeps its lease on its first host and its records on this machine).
    public var postgresURLSecret: String?

    public init(postgresURLSecret: String? = nil) { self.postgresURLSecret = postgresURLSecret }
}

/// A number of hosts (`3`) or a share of them (`"25%"`).
public enum HostCount: Sendable, Equatable, CustomStringConvertible {
    case count(Int)
    case percent(Int)

    /// How many of `total`: a share rounded up (so 25% of 2 hosts is 1), never below `atLeast`.
    public func of(_ total: Int, atLeast: Int = 1) -> Int {
        switch self {
        case .count(let n): max(atLeast, n)
        case .percent(let p): max(atLeast, (total * p + 99) / 100)
        }
    }

    /// A share rounded down (so a 10% tolerance of 5 hosts is none), never below zero.
    public func tolerated(of total: Int) -> Int {
        switch self {
        case .count(let n): max(0, n)
        case .percent(let p): max(0, total * p / 100)
        }
    }

    public var description: String {
        switch self {
        case .count(let n): String(n)
        case .percent(let p): "\(p)%"
        }
    }
}

/// `https_hosts: { token_secret: NAME, ca: FILE }`: how the CLI reaches hosts listed as `https://HOST:PORT` (the host
/// daemon's HTTPS listener, no ssh): the environment variable holding their token, and the CA their certificates are
/// checked against (default: the system's roots).
public struct HTTPSHostSettings: Sendable, Equatable {
    public var tokenSecret: String?
    public var ca: String?
    public init(tokenSecret: String? = nil, ca: String? = nil) {
        self.tokenSecret = tokenSecret
        self.ca = ca
    }
}
