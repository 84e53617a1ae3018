import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// What the feature objects share: the state database, the releases on disk, the router, the supervisor,
/// the daemon's logger and the configuration as last loaded. Each feature gets this and nothing of the
/// others' state; it reads the configuration through `configs`, never a copy that goes stale.
public struct EngineContext: Sendable {
    public let store: SlipwayStore
    let releases: ReleaseStore
    public let router: RouterController
    public let supervisor: Supervisor
    let logger: Logger
    public let configs: ConfigSource
    /// The policy and the lease's settings.
    public let admission: Admission
    /// How often the periodic work runs.
    public var cadence = Cadence.standard

    var config: SlipwayConfig { configs.current }

    /// A line of a deployment's progress, written as `holder` (the daemon run): its event, and its deploy log.
    /// An event that cannot be written is counted and logged.
    func note(_ d: DeploymentInfo, _ detail: String, by holder: String, log: DeployLog) {
        logger.write("note deployment \(d.id)'s progress", to: store) { () throws(SlipwayError) in try store.note(d.id, actor: holder, detail: detail) }
        log.write(detail)
    }
}
