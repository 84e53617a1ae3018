import Foundation

public struct ReleaseCreateBody: Codable, Sendable {
    public var version: String
    /// Directory to copy; nil means run `release.build` and copy `release.files`.
    public var from: String?
    /// An image to pull (unless the runtime has it) and pin (`runtime: podman | docker`).
    public var image: String?
    /// A `docker save`/`podman save` archive to load and pin.
    public var imageArchive: String?
    public init(version: String, from: String?, image: String? = nil, imageArchive: String? = nil) {
        self.version = version
        self.from = from
        self.image = image
        self.imageArchive = imageArchive
    }
    enum CodingKeys: String, CodingKey {
        case version, from, image
        case imageArchive = "image_archive"
    }
}

public typealias ReleaseCreateRequest = Attributed<ReleaseCreateBody>

extension Attributed where Body == ReleaseCreateBody {
    public init(version: String, from: String?, image: String? = nil, imageArchive: String? = nil, actor: String) {
        self.init(ReleaseCreateBody(version: version, from: from, image: image, imageArchive: imageArchive), actor: actor)
    }
}

public struct DeployBody: Codable, Sendable {
    public var version: String?
    public var environment: String?
    public var strategy: DeployStrategy?
    public var kind: DeploymentKind
    /// Rollbacks: restore the backup taken before the deploy that replaced `version` too.
    public var withData: Bool?
    /// With `withData`: the backup the caller was shown and confirmed; refused if another one would be used.
    public var backupId: String?
    /// Why it was asked for, in its first event (the post-deploy watch gives its evidence here).
    public var reason: String?
    /// Deploy a release remembered as bad (rolled back by the watch) all the same.
    public var force: Bool?
    /// Pass the environment's windows and freezes (an admin, with a `reason`; audited).
    public var overrideWindow: Bool?
    /// A fleet host's activation whose data steps (the backup before it, the migrations) ran once on the fleet's data host.
    public var skipData: Bool?
    public init(version: String?, environment: String?, strategy: DeployStrategy?, kind: DeploymentKind,
                withData: Bool? = nil, backupId: String? = nil) {
        self.version = version
        self.environment = environment
        self.strategy = strategy
        self.kind = kind
        self.withData = withData
        self.backupId = backupId
    }

    enum CodingKeys: String, CodingKey {
        case version, environment, strategy, kind, reason, force, overrideWindow = "override_window", withData = "with_data", backupId = "backup_id"
        case skipData = "skip_data"
    }
}

public typealias DeployRequest = Attributed<DeployBody>

extension Attributed where Body == DeployBody {
    public init(version: String?, environment: String?, strategy: DeployStrategy?, kind: DeploymentKind, actor: String,
                withData: Bool? = nil, backupId: String? = nil) {
        self.init(DeployBody(version: version, environment: environment, strategy: strategy, kind: kind, withData: withData, backupId: backupId), actor: actor)
    }
}

public struct ScaleBody: Codable, Sendable {
    public var environment: String?
    public var instances: Int
    /// A process type (`worker`; nil or `web`: the routed instances).
    public var type: String?
    public init(environment: String?, instances: Int, type: String? = nil) {
        self.environment = environment
        self.instances = instances
        self.type = type
    }
}

public typealias ScaleRequest = Attributed<ScaleBody>

extension Attributed where Body == ScaleBody {
    public init(environment: String?, instances: Int, type: String? = nil, actor: String) {
        self.init(ScaleBody(environment: environment, instances: instances, type: type), actor: actor)
    }
}

public struct EnvironmentBody: Codable, Sendable {
    public var environment: String?
    public init(environment: String?) {
        self.environment = environment
    }
}

public typealias EnvironmentRequest = Attributed<EnvironmentBody>

extension Attributed where Body == EnvironmentBody {
    public init(environment: String?, actor: String) {
        self.init(EnvironmentBody(environment: environment), actor: actor)
    }
}

public struct DownBody: Codable, Sendable {
    public var environment: String?
    /// Every environment, and stop the router process.
    public var all: Bool
    public init(environment: String?, all: Bool) {
        self.environment = environment
        self.all = all
    }
}

public typealias DownRequest = Attributed<DownBody>

extension Attributed where Body == DownBody {
    public init(environment: String?, all: Bool, actor: String) {
        self.init(DownBody(environment: environment, all: all), actor: actor)
    }
}

public struct ErrorBody: Codable, Sendable {
    public var error: SlipwayError
    public init(error: SlipwayError) { self.error = error }
}

public enum SlipwayJSON {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        // ISO 8601 with milliseconds: deployments take well under a second.
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        e.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    /// `value` as JSON through `encoder`; a failure is an internal error naming `what` (never empty data or `null`).
    public static func encode<T: Encodable>(_ value: T, with encoder: JSONEncoder = encoder(), what: String) throws(SlipwayError) -> Data {
        do { return try encoder.encode(value) } catch { throw SlipwayError(.internal, "cannot encode \(what)", cause: error) }
    }

    /// An ISO 8601 time, with or without fractional seconds.
    public static func parseDate(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an ISO 8601 date, got \(text)")
        }
        return d
    }
}

/// `POST /v1/router/restart`: the pid of the router process that serves now.
public struct RouterRestartResult: Codable, Sendable, Equatable {
    public var pid: Int
    public init(pid: Int) { self.pid = pid }
}

/// `slipway canary promote|abort`.
public struct CanaryBody: Codable, Sendable {
    public var environment: String?
    public var action: CanaryCommand.Action
    public var reason: String?
    public init(environment: String?, action: CanaryCommand.Action, reason: String? = nil) {
        self.environment = environment
        self.action = action
        self.reason = reason
    }
    enum CodingKeys: String, CodingKey { case environment, action, reason }
}

public typealias CanaryRequest = Attributed<CanaryBody>

extension Attributed where Body == CanaryBody {
    public init(environment: String?, action: CanaryCommand.Action, reason: String? = nil, actor: String) {
        self.init(CanaryBody(environment: environment, action: action, reason: reason), actor: actor)
    }
}
