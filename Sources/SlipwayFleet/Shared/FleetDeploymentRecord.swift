import Foundation
import SlipwayCore

/// One fleet deployment as the shared state keeps it (`slipway history --json` on a fleet environment with
/// `state.postgres`). Written before any host is asked, finished with the outcome.
public struct FleetDeploymentRecord: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// `slipway deploy VERSION`, `deploy resume ID`, `deploy rollback ID`, `slipway rollback [VERSION]`.
        case deploy, resume, revert, rollback
    }
    public var id: String
    public var environment: String
    public var version: String
    public var kind: Kind
    public var actor: String
    public var holder: String
    /// The hosts it targets.
    public var hosts: [String]
    /// `running`, then the outcome's state (succeeded, failed, rolled_back, partial, refused); `interrupted` when its
    /// controller's connection ended while it ran (a killed controller: `deploy resume ID` or `deploy rollback ID`).
    public var state: String
    public var phase: String
    public var epoch: Int64
    public var message: String
    public var startedAt: Date
    public var finishedAt: Date?
    /// Each host's end state and release, once finished.
    public var results: [FleetOutcome.Host]

    public init(id: String, environment: String, version: String, kind: Kind, actor: String, holder: String, hosts: [String], startedAt: Date = Date()) {
        self.id = id
        self.environment = environment
        self.version = version
        self.kind = kind
        self.actor = actor
        self.holder = holder
        self.hosts = hosts
        self.state = "running"
        self.phase = ""
        self.epoch = 0
        self.message = ""
        self.startedAt = startedAt
        self.finishedAt = nil
        self.results = []
    }

    enum CodingKeys: String, CodingKey {
        case id, environment, version, kind, actor, holder, hosts, state, phase, epoch, message, results
        case startedAt = "started_at", finishedAt = "finished_at"
    }
}
