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
    /// Its number in the shared state, in the order deployments were recorded (DORA's reports list these).
    public var number: Int64 = 0
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
        case id, number, environment, version, kind, actor, holder, hosts, state, phase, epoch, message, results
        case startedAt = "started_at", finishedAt = "finished_at"
    }
}

extension FleetDeploymentRecord {
    /// Fleet deployments as the deployments DORA's report reads (`DORAReport.compute`), oldest first by number: a
    /// deploy or a resume is a deploy, `deploy rollback ID` and `slipway rollback` are rollbacks away from the release
    /// that served before them; succeeded and rolled back keep their state (a `deploy rollback ID` that rolled back
    /// succeeded), every other end (failed, partial, interrupted) is a failure; refused ones never started and running ones have not ended, so neither counts.
    public static func doraDeployments(_ records: [FleetDeploymentRecord]) -> [DeploymentInfo] {
        var serving: String?
        var out: [DeploymentInfo] = []
        for r in records.sorted(by: { $0.number < $1.number }) {
            let state: DeploymentState
            switch r.state {
            case "succeeded": state = .succeeded
            // A `deploy rollback ID` that put every host back ends `rolled_back`: what it was asked to do.
            case "rolled_back": state = r.kind == .revert ? .succeeded : .rolledBack
            case "failed", "partial", "interrupted": state = .failed
            default: continue
            }
            let rollback = r.kind == .revert || r.kind == .rollback
            // `deploy rollback ID` carries the release it undoes; `slipway rollback V` leaves the one that served.
            let previous = r.kind == .revert ? r.version : serving
            let version = r.kind == .revert ? (r.results.compactMap(\.current).first ?? r.version) : r.version
            out.append(DeploymentInfo(id: r.number, environment: r.environment, version: version, previousVersion: previous,
                                      kind: rollback ? .rollback : .deploy, strategy: .blueGreen, state: state, actor: r.actor, startedAt: r.startedAt,
                                      finishedAt: r.finishedAt ?? r.startedAt, outcome: r.state, message: r.message, logFile: ""))
            if state == .succeeded { serving = version }
        }
        return out
    }
}
