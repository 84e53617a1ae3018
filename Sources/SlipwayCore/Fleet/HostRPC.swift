import Foundation

/// What a controller (the `slipway` CLI of an operator or a CI job) asks a fleet host's daemon
/// (`slipway server --host-only`) over `ssh HOST slipway server dial-stdio`. Every call is idempotent.

/// `PUT /v1/host/apps/APP/config`: the app's `slipway.yml` as the controller has it; the host keeps it as the
/// app's config snapshot (its own root and secrets stay the host's).
public struct HostConfigRequest: Codable, Sendable, Equatable {
    public var yaml: String
    public init(yaml: String) { self.yaml = yaml }
}

/// `POST /v1/host/apps/APP/releases/VERSION?digest=D` with the release as a gzipped tar in the body: unpacked into a
/// temporary directory, checked against `digest` (the release's content digest), then renamed into place.
public struct HostStageResult: Codable, Sendable, Equatable {
    public var version: String
    public var digest: String
    /// False: the release was there already with this digest.
    public var staged: Bool
    public init(version: String, digest: String, staged: Bool) {
        self.version = version
        self.digest = digest
        self.staged = staged
    }
}

/// An image release's image on a host: `GET /v1/host/apps/APP/images?id=ID&runtime=R` (does its runtime hold it?) and
/// `POST /v1/host/apps/APP/images?id=ID&reference=REF&runtime=R` with a gzipped `save` archive of it in the body (loaded,
/// then checked: the id it loaded as must be `id`). A controller sends the image only to the hosts that lack it.
public struct HostImageState: Codable, Sendable, Equatable {
    public var id: String
    public var present: Bool
    public init(id: String, present: Bool) {
        self.id = id
        self.present = present
    }
}

/// `POST /v1/host/apps/APP/activate`: switch `environment` to `version` through the host's own health-gated
/// deploy; returns once it ended. `deployment`: the fleet deployment's id (a revert finds what it replaced);
/// `epoch`: the controller's fencing token (a host refuses one lower than it has seen).
public struct HostActivateRequest: Codable, Sendable, Equatable {
    public var environment: String
    public var version: String
    public var deployment: String
    public var epoch: Int64
    public var actor: String
    /// `rollback` for `slipway rollback` on a fleet (the host's history says so); nil: a deploy.
    public var kind: DeploymentKind?
    /// True: the fleet ran the data steps once, on another host (`fleet.data: once`): no backup or migration here.
    public var skipData: Bool?
    /// A rollback that also restores the backup taken before the deploy it undoes (`rollback --with-data`), and the
    /// backup the operator confirmed (refused if another one would be used).
    public var withData: Bool?
    public var backupId: String?
    public init(environment: String, version: String, deployment: String, epoch: Int64, actor: String, kind: DeploymentKind? = nil, skipData: Bool? = nil) {
        self.skipData = skipData
        self.environment = environment
        self.version = version
        self.deployment = deployment
        self.epoch = epoch
        self.actor = actor
        self.kind = kind
    }
}

/// `POST /v1/host/apps/APP/revert`: put back what `deployment` replaced on this host (nothing to do when it never switched).
public struct HostRevertRequest: Codable, Sendable, Equatable {
    public var environment: String
    public var deployment: String
    public var epoch: Int64
    public var actor: String
    public init(environment: String, deployment: String, epoch: Int64, actor: String) {
        self.environment = environment
        self.deployment = deployment
        self.epoch = epoch
        self.actor = actor
    }
}

/// `POST /v1/host/apps/APP/lease` on the environment's first host: take, renew (`release` false) or give back the
/// fleet lease; the answer carries the holder's epoch.
public struct HostLeaseRequest: Codable, Sendable, Equatable {
    public var environment: String
    public var holder: String
    public var ttlSeconds: Int
    public var release: Bool
    public init(environment: String, holder: String, ttlSeconds: Int, release: Bool) {
        self.environment = environment
        self.holder = holder
        self.ttlSeconds = ttlSeconds
        self.release = release
    }
}

/// What an activation or a revert did on one host.
public struct HostActivation: Codable, Sendable, Equatable {
    public var succeeded: Bool
    /// The release serving now (nil: none).
    public var current: String?
    /// What the fleet deployment replaced here.
    public var previous: String?
    /// The host's own deployment (its `slipway history` id), when one ran.
    public var hostDeployment: Int64?
    public var message: String
    public init(succeeded: Bool, current: String?, previous: String?, hostDeployment: Int64?, message: String) {
        self.succeeded = succeeded
        self.current = current
        self.previous = previous
        self.hostDeployment = hostDeployment
        self.message = message
    }
}

/// `GET /v1/host/status`: what the host serves, per app and environment.
public struct HostStatus: Codable, Sendable, Equatable {
    public struct Environment: Codable, Sendable, Equatable {
        public var app: String
        public var name: String
        public var current: String?
        /// What served before `current` (the target of a plain `slipway rollback`).
        public var previous: String?
        public var healthy: Bool
        public var epoch: Int64
        public var releases: [String]
        /// Paused by a fleet's data rollback (`FleetDeploy.holdMarker`): that rollback's id, so a later fleet operation can
        /// lift a hold its controller did not live to lift.
        public var fleetHold: String?
        public init(app: String, name: String, current: String?, previous: String? = nil, healthy: Bool, epoch: Int64, releases: [String]) {
            self.app = app
            self.name = name
            self.current = current
            self.previous = previous
            self.healthy = healthy
            self.epoch = epoch
            self.releases = releases
        }
    }
    public var hostname: String
    public var environments: [Environment]
    public init(hostname: String, environments: [Environment]) {
        self.hostname = hostname
        self.environments = environments
    }
}

extension HostStatus {
    /// The words a fleet's data rollback pauses the other hosts with, before its id.
    public static let fleetHoldPrefix = "Held by fleet rollback "

    /// The fleet rollback id in a paused environment's page (nil: paused by someone else).
    public static func fleetHold(in html: String) -> String? {
        guard let r = html.range(of: fleetHoldPrefix) else { return nil }
        let id = html[r.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" }
        return id.hasPrefix("fd-") ? String(id) : nil
    }
}
