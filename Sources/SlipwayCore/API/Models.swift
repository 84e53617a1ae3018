import Foundation

/// JSON shapes shared by the daemon's API and the CLI's `--json` output. Field names are a contract.
public struct ReleaseInfo: Codable, Sendable, Equatable {
    public var version: String
    public var digest: String
    public var createdAt: Date
    public var creator: String
    public var gitCommit: String?
    public var gitCommitTime: Date?
    /// The branch and tag the release was built from, and whether the tree had uncommitted changes.
    public var gitBranch: String?
    public var gitTag: String?
    public var gitDirty: Bool?
    public var files: Int
    public var bytes: Int64

    public init(version: String, digest: String, createdAt: Date, creator: String, gitCommit: String? = nil,
                gitCommitTime: Date? = nil, files: Int, bytes: Int64) {
        self.version = version
        self.digest = digest
        self.createdAt = createdAt
        self.creator = creator
        self.gitCommit = gitCommit
        self.gitCommitTime = gitCommitTime
        self.files = files
        self.bytes = bytes
    }

    enum CodingKeys: String, CodingKey {
        case version, digest, creator, files, bytes
        case createdAt = "created_at", gitCommit = "git_commit", gitCommitTime = "git_commit_time"
        case gitBranch = "git_branch", gitTag = "git_tag", gitDirty = "git_dirty"
    }

    /// "main@1a2b3c4d5e6f v1.2.0 +dirty", or nil without git.
    public var gitSummary: String? {
        guard let gitCommit else { return nil }
        var text = (gitBranch.map { $0 + "@" } ?? "") + String(gitCommit.prefix(12))
        if let gitTag { text += " " + gitTag }
        if gitDirty == true { text += " +dirty" }
        return text
    }
}

public enum DeploymentKind: String, Codable, Sendable {
    case deploy
    case rollback
}

public struct DeploymentInfo: Codable, Sendable, Equatable {
    public var id: Int64
    public var environment: String
    public var version: String
    public var previousVersion: String?
    public var kind: DeploymentKind
    public var strategy: DeployStrategy
    public var state: DeploymentState
    public var actor: String
    public var startedAt: Date
    public var finishedAt: Date?
    /// `succeeded`, `failed` or `rolled_back` once the deployment has ended.
    public var outcome: String?
    public var message: String?
    public var logFile: String
    /// What the client claimed (`SLIPWAY_ACTOR`); `actor` is the OS user the daemon verified.
    public var onBehalfOf: String?
    /// The release's commit time, recorded when the deployment starts: lead time does not depend on the
    /// release still being on disk (`keep_releases` prunes it).
    public var commitTime: Date?
    /// The deployment a rollback reverses (the watch's rollback of a release that went bad).
    public var undoes: Int64?
    /// Why a deployment ended failed or rolled back, when it was not an error: an approver rejected it, a
    /// person aborted it, Slipway reverted it on its own (a gate, the analysis, a hook), or a daemon restart
    /// interrupted it.
    public var endReason: EndReason?

    public enum EndReason: String, Codable, Sendable, Equatable {
        case rejected, aborted, reverted, interrupted
    }

    public init(id: Int64, environment: String, version: String, previousVersion: String?, kind: DeploymentKind,
                strategy: DeployStrategy, state: DeploymentState, actor: String, startedAt: Date,
                finishedAt: Date? = nil, outcome: String? = nil, message: String? = nil, logFile: String, onBehalfOf: String? = nil) {
        self.onBehalfOf = onBehalfOf
        self.id = id
        self.environment = environment
        self.version = version
        self.previousVersion = previousVersion
        self.kind = kind
        self.strategy = strategy
        self.state = state
        self.actor = actor
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.message = message
        self.logFile = logFile
    }

    enum CodingKeys: String, CodingKey {
        case id, environment, version, kind, strategy, state, actor, outcome, message
        case previousVersion = "previous_version", startedAt = "started_at", finishedAt = "finished_at", logFile = "log_file"
        case onBehalfOf = "on_behalf_of", commitTime = "commit_time", undoes, endReason = "end_reason"
    }
}

public struct DeploymentEvent: Codable, Sendable, Equatable {
    public var seq: Int64
    public var deploymentId: Int64
    public var time: Date
    public var actor: String
    public var state: DeploymentState
    public var detail: String

    public init(seq: Int64, deploymentId: Int64, time: Date, actor: String, state: DeploymentState, detail: String) {
        self.seq = seq
        self.deploymentId = deploymentId
        self.time = time
        self.actor = actor
        self.state = state
        self.detail = detail
    }

    enum CodingKeys: String, CodingKey {
        case seq, time, actor, state, detail
        case deploymentId = "deployment_id"
    }
}

public struct DeploymentProgress: Codable, Sendable {
    public var deployment: DeploymentInfo
    public var events: [DeploymentEvent]
    public init(deployment: DeploymentInfo, events: [DeploymentEvent]) {
        self.deployment = deployment
        self.events = events
    }
}

public enum InstanceState: String, Codable, Sendable {
    /// Started, not yet ready.
    case starting
    /// Ready and in the router's pool (or ready to be).
    case running
    /// The previous release, kept warm after a switch so a rollback needs no start.
    case standby
    case stopping
    case stopped
    /// Exited; the supervisor restarts it after a back-off.
    case crashed
}

public struct InstanceInfo: Codable, Sendable, Equatable {
    public var id: Int64
    public var environment: String
    public var release: String
    public var slot: Int
    public var port: Int
    public var pid: Int32
    public var state: InstanceState
    public var ready: Bool
    public var restarts: Int
    public var startedAt: Date
    public var logFile: String
    /// CPU use (a share of one core) and resident memory, as the supervisor last sampled them (serving instances).
    public var cpu: Double?
    public var rssBytes: Int64?

    public init(id: Int64, environment: String, release: String, slot: Int, port: Int, pid: Int32,
                state: InstanceState, ready: Bool, restarts: Int, startedAt: Date, logFile: String) {
        self.id = id
        self.environment = environment
        self.release = release
        self.slot = slot
        self.port = port
        self.pid = pid
        self.state = state
        self.ready = ready
        self.restarts = restarts
        self.startedAt = startedAt
        self.logFile = logFile
    }

    enum CodingKeys: String, CodingKey {
        case id, environment, release, slot, port, pid, state, ready, restarts, cpu
        case startedAt = "started_at", logFile = "log_file", rssBytes = "rss_bytes"
    }
}

public struct LockInfo: Codable, Sendable, Equatable {
    public var environment: String
    public var holder: String
    public var deploymentId: Int64?
    public var acquiredAt: Date
    public var heartbeatAt: Date

    public init(environment: String, holder: String, deploymentId: Int64?, acquiredAt: Date, heartbeatAt: Date) {
        self.environment = environment
        self.holder = holder
        self.deploymentId = deploymentId
        self.acquiredAt = acquiredAt
        self.heartbeatAt = heartbeatAt
    }

    enum CodingKeys: String, CodingKey {
        case environment, holder
        case deploymentId = "deployment_id", acquiredAt = "acquired_at", heartbeatAt = "heartbeat_at"
    }
}

/// A secret the configuration names: where its value comes from (`secrets/<env>.env`, `secrets.env`,
/// `the daemon's environment`), or nil when it is not set. Never the value.
public struct SecretInfo: Codable, Sendable, Equatable {
    public var name: String
    public var source: String?
    public init(name: String, source: String?) {
        self.name = name
        self.source = source
    }
}

/// `POST /v1/secrets/sources`: for each environment, the secret names a config needs; the answer says, per
/// environment, where the running daemon finds each one (its root's files and its own environment). Names
/// and sources only.
public struct SecretSourcesRequest: Codable, Sendable, Equatable {
    public var environments: [String: [String]]
    public init(environments: [String: [String]]) { self.environments = environments }
}

public struct AuditEntry: Codable, Sendable, Equatable {
    public var id: Int64
    public var time: Date
    public var actor: String
    public var action: String
    public var target: String
    public var outcome: String
    public var detail: String
    public var hash: String
    /// What the client claimed (`SLIPWAY_ACTOR`), beside the verified `actor`.
    public var onBehalfOf: String?
    /// The roles the actor acted with (`daemon` for the daemon's own actions).
    public var role: String?
    /// Where the request came from: an IP address, `socket` (the admin socket), or nil for the daemon's own actions.
    public var source: String?
    public var requestId: String?
    /// The target's state before and after the action, where it has one (a release, a count, on/off).
    public var before: String?
    public var after: String?

    public init(id: Int64, time: Date, actor: String, action: String, target: String, outcome: String, detail: String, hash: String,
                onBehalfOf: String? = nil) {
        self.onBehalfOf = onBehalfOf
        self.id = id
        self.time = time
        self.actor = actor
        self.action = action
        self.target = target
        self.outcome = outcome
        self.detail = detail
        self.hash = hash
    }

    enum CodingKeys: String, CodingKey {
        case id, time, actor, action, target, outcome, detail, hash, role, source, before, after
        case onBehalfOf = "on_behalf_of", requestId = "request_id"
    }
}
