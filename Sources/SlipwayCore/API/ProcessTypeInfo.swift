import Foundation

/// An unrouted process type as `status` shows it: how many are wanted and what runs.
public struct ProcessTypeInfo: Codable, Sendable, Equatable {
    public var name: String
    /// `instances` (or `slipway scale TYPE=N`'s count); 0 while nothing serves the environment.
    public var wanted: Int
    public var singleton: Bool
    /// A routed type's path (`/api`).
    public var route: String?
    public var processes: [Process]

    public struct Process: Codable, Sendable, Equatable {
        public enum State: String, Codable, Sendable { case running, crashed, stopping }
        public var release: String
        public var slot: Int
        public var pid: Int32?
        public var state: State
        public var restarts: Int
        public var startedAt: Date
        public var logFile: String
        /// A routed type's port, and whether the router sends it the type's path.
        public var port: Int?
        public var serving: Bool?

        public init(release: String, slot: Int, pid: Int32?, state: State, restarts: Int, startedAt: Date, logFile: String) {
            self.release = release
            self.slot = slot
            self.pid = pid
            self.state = state
            self.restarts = restarts
            self.startedAt = startedAt
            self.logFile = logFile
        }

        enum CodingKeys: String, CodingKey {
            case release, slot, pid, state, restarts, port, serving
            case startedAt = "started_at", logFile = "log_file"
        }
    }

    public init(name: String, wanted: Int, singleton: Bool, processes: [Process]) {
        self.name = name
        self.wanted = wanted
        self.singleton = singleton
        self.processes = processes
    }
}
