import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// A feature object (`Signals`, `Backups`, `Routing`, …): it reaches what the features share through one
/// `EngineContext`, and reads it through these names.
protocol FeatureObject: Sendable {
    var context: EngineContext { get }
}

extension FeatureObject {
    var store: SlipwayStore { context.store }
    var releases: ReleaseStore { context.releases }
    var router: RouterController { context.router }
    var supervisor: Supervisor { context.supervisor }
    var logger: Logger { context.logger }
    /// `slipway.yml` as last loaded (replaced for every feature at once by `EngineContext.reloadConfig`).
    var config: SlipwayConfig { context.config }
}
