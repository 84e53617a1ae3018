import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// What the daemon notices: alerts judged every `Cadence.alerts` (the `alerts` periodic job), incidents they
/// and failed deploys open, and autoscaling decided from the same samples (the outbox that tells people is
/// `Notifications`, fed by the events these write). It owns its rules' state (each rule's evaluator and last
/// reading, the live traffic history, the instances' last use) and its autoscale queue; it writes alert and
/// incident rows, and asks the engine for nothing but a scale (through `AutoscaleService`).
public actor Signals: FeatureObject {
    let context: EngineContext

    /// When alerts were last judged.
    var lastAlertRun: Date?
    /// The last five minutes of traffic per release (the dashboard's charts), fed by the alert pass.
    public internal(set) var traffic = TrafficHistory()
    /// Each rule's evaluator (its `in D` history) and its last reading, per `environment/alert` (the readings
    /// are not persisted: only transitions are).
    var alertEvaluators: [String: RuleEvaluator] = [:]
    var alertReadings: [String: (value: String?, summary: String)] = [:]
    /// Per environment: the live release's router counters last seen while an incident was open (its impact).
    var incidentCounters: [String: (release: String, requests: Int, errors: Int)] = [:]
    /// The serving instances' CPU share and resident memory, as the alert pass last sampled them (for `status`).
    public internal(set) var instanceUsage: [Int64: InstanceUsage] = [:]
    /// Autoscaling: each environment's decider (its timers and cooldown), and the environments whose scale runs.
    var autoscalers: [String: AutoscaleDecider] = [:]
    var autoscaling: Set<String> = []
    /// The scales autoscaling decided on, run by `AutoscaleService`.
    let autoscaleRuns = WorkQueue<AutoscaleJob>()

    public struct InstanceUsage: Sendable {
        public var cpu: Double?
        public var rss: Int64?
    }

    /// The continuous archivers' statuses, published by `ContinuousArchiving` (the lag alert reads them).
    public nonisolated let continuousBoard = ContinuousBoard()

    init(context: EngineContext) { self.context = context }

    /// A scale autoscaling asked for has ended (whatever its outcome): the next decision may start another.
    func autoscaleEnded(_ environment: String) { autoscaling.remove(environment) }
}
