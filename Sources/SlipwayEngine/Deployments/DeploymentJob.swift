import SlipwayCore
import SlipwayStore

/// A deployment accepted by `startDeployment`, waiting for `DeploymentService` to run it. It carries the
/// configuration as it was when the deployment started: a reload meanwhile never mixes two configs
/// in one deployment.
struct DeploymentJob: Sendable {
    var deployment: DeploymentInfo
    var config: SlipwayConfig
    var env: EnvironmentConfig
    var lease: Lease
    /// For `rollback --with-data`: the backup restored before the switch.
    var data: BackupInfo?
    /// A deployment continued after a daemon restart (a canary): its data steps already ran.
    var resume = false
    /// A fleet host's activation: the fleet ran the data steps once, on its data host.
    var skipData = false
    /// A rollback by the post-deploy watch: the deployment it reverses, whose migration it undoes once the
    /// previous release serves again (`migrate.on_failure`).
    var undoing: Int64?
    /// The request that started it (source, request id, roles), so its audit entries name them too.
    var origin = RequestOrigin.current
}
