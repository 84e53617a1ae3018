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
}
