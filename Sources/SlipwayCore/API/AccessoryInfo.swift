import Foundation

/// An accessory as `slipway accessory list` and `GET /v1/accessories` show it.
public struct AccessoryInfo: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// Its process runs (and, with `health.tcp`, accepts connections: `ready`).
        case running
        /// Its process died; the supervision starts it again after a back-off.
        case crashed
        /// `accessory stop`: left down until `start` or `restart`.
        case stopped
        /// Configured, never started yet.
        case pending
    }

    public var environment: String
    public var name: String
    public var state: State
    public var pid: Int32?
    public var ready: Bool
    public var restarts: Int
    public var startedAt: Date?
    public var command: String
    /// The config changed since it started: `slipway accessory restart NAME` applies it (a deploy never does).
    public var drift: Bool
    /// Running, but no longer in the config: `accessory stop` ends it.
    public var configured: Bool
    public var logFile: String?

    public init(environment: String, name: String, state: State, pid: Int32?, ready: Bool, restarts: Int, startedAt: Date?, command: String,
                drift: Bool, configured: Bool, logFile: String?) {
        self.environment = environment
        self.name = name
        self.state = state
        self.pid = pid
        self.ready = ready
        self.restarts = restarts
        self.startedAt = startedAt
        self.command = command
        self.drift = drift
        self.configured = configured
        self.logFile = logFile
    }

    enum CodingKeys: String, CodingKey {
        case environment, name, state, pid, ready, restarts, command, drift, configured
        case startedAt = "started_at", logFile = "log_file"
    }
}
