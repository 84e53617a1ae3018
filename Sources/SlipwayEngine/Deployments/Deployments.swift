import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// Deployments and rollbacks as persisted state machines: admission (policy, lease), the queue, the
/// strategies (over `DeploymentSteps`, which this actor implements), canary commands, the post-deploy
/// watch, approvals, and recovery after a restart. It owns the queue; `Watches`, `CanaryControl`,
/// `Approvals` and `InstanceSteps` are its parts. It calls `Routing` (the table), `Backups` and
/// `DeploymentData` (a deployment's data steps), `Maintenance` (a data rollback's hold) and `Signals` (an
/// incident when a deploy fails).
public actor Deployments: FeatureObject {
    nonisolated let context: EngineContext
    let routing: Routing
    let backups: Backups
    let dataSteps: DeploymentData
    let maintenanceModes: Maintenance
    let signals: Signals
    /// The unrouted process types, moved at a deployment's end.
    let processTypes: ProcessTypes
    /// Deploys waiting for approvals, and the decisions.
    let approvals: Approvals
    /// Gates, marks, re-adopts instances; prunes release directories.
    let instanceSteps: InstanceSteps
    /// The post-deploy watches.
    let watches: Watches
    /// Identifies this daemon run in locks and events.
    nonisolated let holder: String
    /// Accepted deployments, run by `DeploymentService`.
    nonisolated let queue: DeploymentQueue
    /// `canary promote|abort|status`, and the running canaries' sleeps those cut short.
    nonisolated let canaries: CanaryControl

    init(context: EngineContext, holder: String, routing: Routing, backups: Backups, dataSteps: DeploymentData,
         maintenanceModes: Maintenance, signals: Signals, processTypes: ProcessTypes) {
        self.processTypes = processTypes
        self.context = context
        self.holder = holder
        self.routing = routing
        self.backups = backups
        self.dataSteps = dataSteps
        self.maintenanceModes = maintenanceModes
        self.signals = signals
        let queue = DeploymentQueue()
        self.queue = queue
        self.canaries = CanaryControl(context: context)
        self.instanceSteps = InstanceSteps(context: context)
        self.watches = Watches(context: context, holder: holder)
        self.approvals = Approvals(context: context, holder: holder, queue: queue)
    }

    /// The checks a deployment, rollback, scale or restore must pass before it starts.
    nonisolated var policy: Policy { context.admission.policy }
    /// Lock lifetime and heartbeat (tests shorten them).
    nonisolated var leaseSettings: LeaseSettings { context.admission.leaseSettings }

    func pushTable() async throws(SlipwayError) { try await routing.push() }

    /// Pushes the table where the caller goes on either way (a best effort): a failure is logged.
    func pushTableLogged() async { await routing.pushLogged() }

    /// Waits until the router reports no request in flight on `pool` of `environment`, or `timeout`.
    func waitForDrain(environment: String, pool: String, timeout: Duration) async -> Int {
        await routing.waitForDrain(environment: environment, pool: pool, timeout: timeout)
    }
}
