import Foundation

/// `processes.NAME` other than `web`: a process type the router does not serve (a worker, a scheduler). One
/// release carries every type; a deploy, rollback or promotion moves them together once the web type serves
/// the new release (the old ones get `stop_signal` and finish their work within `stop_timeout`). A `singleton`
/// never runs twice: the old one has stopped before the new one starts.
public struct ProcessTypeSettings: Sendable, Equatable {
    /// The routed, health-gated type (`process:` is the one-type shorthand for it).
    public static let web = "web"

    public var name: String
    /// Command, instances, env, secrets, stop_timeout, memory_limit, user, group, limits: as `process:`.
    public var process: ProcessSettings
    /// What a stop sends first (SIGKILL follows after `stop_timeout`).
    public var stopSignal: StopSignal = .term
    public var singleton = false
    /// `route: { path: /api, strip_prefix }`: a routed type. It gets a PORT, its new processes are health-gated
    /// (`health:`) before the router sends them this path on the environment's address and hosts, and the old
    /// ones are drained before they stop.
    public var route: RouteMatch?

    public init(name: String, process: ProcessSettings) {
        self.name = name
        self.process = process
    }
}

/// The signals a process type may be stopped with.
public enum StopSignal: String, Sendable, Equatable, CaseIterable {
    case term = "SIGTERM", int = "SIGINT", quit = "SIGQUIT", hup = "SIGHUP", usr1 = "SIGUSR1", usr2 = "SIGUSR2"

    /// `SIGTERM` or `TERM`, any case.
    public init?(name: String) {
        let upper = name.uppercased()
        guard let s = StopSignal(rawValue: upper.hasPrefix("SIG") ? upper : "SIG" + upper) else { return nil }
        self = s
    }

    public var number: Int32 {
        switch self {
        case .term: SIGTERM
        case .int: SIGINT
        case .quit: SIGQUIT
        case .hup: SIGHUP
        case .usr1: SIGUSR1
        case .usr2: SIGUSR2
        }
    }
}
