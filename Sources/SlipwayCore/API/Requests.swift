import Foundation

public struct ReleaseCreateRequest: Codable, Sendable, AttributedRequest {
    public var version: String
    /// Directory to copy; nil means run `release.build` and copy `release.files`.
    public var from: String?
    public var actor: String
    /// Set by the daemon: the client's claimed actor, kept as a note (`on_behalf_of`).
    public var onBehalfOf: String?
    /// Set by the daemon: the verified uid of the OS user who asked.
    public var uid: UInt32?
    public init(version: String, from: String?, actor: String) {
        self.version = version
        self.from = from
        self.actor = actor
    }
}

public struct DeployRequest: Codable, Sendable, AttributedRequest {
    public var version: String?
    public var environment: String?
    public var strategy: DeployStrategy?
    public var kind: DeploymentKind
    public var actor: String
    /// Set by the daemon: the client's claimed actor, kept as a note (`on_behalf_of`).
    public var onBehalfOf: String?
    /// Set by the daemon: the verified uid of the OS user who asked.
    public var uid: UInt32?
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
    public init(version: String?, environment: String?, strategy: DeployStrategy?, kind: DeploymentKind, actor: String,
                withData: Bool? = nil, backupId: String? = nil) {
        self.version = version
        self.environment = environment
        self.strategy = strategy
        self.kind = kind
        self.actor = actor
        self.withData = withData
        self.backupId = backupId
    }

    enum CodingKeys: String, CodingKey {
        case version, environment, strategy, kind, actor, reason, force, overrideWindow = "override_window", withData = "with_data", backupId = "backup_id", onBehalfOf = "on_behalf_of", uid
    }
}

public struct ScaleRequest: Codable, Sendable, AttributedRequest {
    public var environment: String?
    public var instances: Int
    public var actor: String
    /// Set by the daemon: the client's claimed actor, kept as a note (`on_behalf_of`).
    public var onBehalfOf: String?
    /// Set by the daemon: the verified uid of the OS user who asked.
    public var uid: UInt32?
    public init(environment: String?, instances: Int, actor: String) {
        self.environment = environment
        self.instances = instances
        self.actor = actor
    }
}

public struct EnvironmentRequest: Codable, Sendable, AttributedRequest {
    public var environment: String?
    public var actor: String
    /// Set by the daemon: the client's claimed actor, kept as a note (`on_behalf_of`).
    public var onBehalfOf: String?
    /// Set by the daemon: the verified uid of the OS user who asked.
    public var uid: UInt32?
    public init(environment: String?, actor: String) {
        self.environment = environment
        self.actor = actor
    }
}

public struct DownRequest: Codable, Sendable, AttributedRequest {
    public var environment: String?
    /// Every environment, and stop the router process.
    public var all: Bool
    public var actor: String
    /// Set by the daemon: the client's claimed actor, kept as a note (`on_behalf_of`).
    public var onBehalfOf: String?
    /// Set by the daemon: the verified uid of the OS user who asked.
    public var uid: UInt32?
    public init(environment: String?, all: Bool, actor: String) {
        self.environment = environment
        self.all = all
        self.actor = actor
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
public struct CanaryRequest: Codable, Sendable, AttributedRequest {
    public var environment: String?
    public var action: CanaryCommand.Action
    public var reason: String?
    public var actor: String
    /// Set by the daemon: the client's claimed actor, kept as a note (`on_behalf_of`).
    public var onBehalfOf: String?
    /// Set by the daemon: the verified uid of the OS user who asked.
    public var uid: UInt32?
    public init(environment: String?, action: CanaryCommand.Action, reason: String? = nil, actor: String) {
        self.environment = environment
        self.action = action
        self.reason = reason
        self.actor = actor
    }
    enum CodingKeys: String, CodingKey { case environment, action, reason, actor, onBehalfOf = "on_behalf_of", uid }
}
