import Foundation
import Logging
import SlipwayCore

import SlipwayRuntime
import SlipwayStore

/// The control plane's composition root: it makes every feature object over one `EngineContext`, hands out
/// the periodic jobs, reconciles at start, and is what the server's routes and the dashboard reach the
/// features through (`engine.deployments`, `engine.backups`, …).
public actor Engine {
    /// What the feature objects share (store, releases, router, supervisor, logger, configuration).
    public nonisolated let context: EngineContext
    /// Tokens and the audit log.
    public nonisolated let access: Access
    /// The event log's pages, long poll and live feed.
    public nonisolated let events: EventLog
    /// Status, history, progress, locks, DORA, `/metrics` and the apps' logs (read-only).
    public nonisolated let reports: Reports
    /// Alerts, incidents and autoscaling.
    public nonisolated let signals: Signals
    /// The route table the router serves, and the router process kept running.
    public nonisolated let routing: Routing
    /// The notifications' outbox.
    public nonisolated let notifications: Notifications
    /// Backups: taken, listed, verified, restored, pruned, rescanned.
    public nonisolated let backups: Backups
    /// `backup.continuous`: the SQLite sources archived as the app writes (run by the daemon's `ContinuousService`).
    public nonisolated let continuous: ContinuousArchiving
    /// A deployment's data steps (backups before it, migrations, `rollback --with-data`), a dry run of a migration.
    public nonisolated let dataSteps: DeploymentData
    /// The event log's and the log files' retention (the `retention` periodic job).
    public nonisolated let housekeeping: Housekeeping
    /// Deployments and rollbacks: admission, the queue, the strategies, canaries, the watch, recovery.
    public nonisolated let deployments: Deployments
    /// `slipway canary promote|abort|status` (the deployments' own).
    public nonisolated var canaries: CanaryControl { deployments.canaries }
    /// Deploys waiting for approvals, and the decisions (the deployments' own).
    public nonisolated var approvals: Approvals { deployments.approvals }
    /// `slipway scale` and `slipway down`.
    public nonisolated let capacity: Capacity
    /// `slipway maintenance`: the page or held requests, per environment.
    public nonisolated let maintenanceModes: Maintenance
    /// `accessories:`: each environment's long-lived services, kept running, never touched by a deploy.
    public nonisolated let accessories: Accessories
    /// `processes:` other than web: workers and singletons, moved by deployments, kept running.
    public nonisolated let processTypes: ProcessTypes
    /// Releases: made from a directory or a git commit, listed.
    public nonisolated let releaseBuilds: Releases
    /// GitHub and GitLab deliveries, built and deployed by `WebhookService`.
    public nonisolated let webhooks: Webhooks
    /// `release.git.poll`: new commits found by polling, built and deployed like a webhook's.
    nonisolated let gitPoller: GitPoller
    /// `slipway.yml` as last loaded (`reloadConfig` replaces it for every feature at once).
    public var config: SlipwayConfig { context.config }
    public nonisolated var store: SlipwayStore { context.store }
    public nonisolated var supervisor: Supervisor { context.supervisor }
    nonisolated var logger: Logger { context.logger }
    /// The state root (`root:`), fixed for the daemon's life.
    public nonisolated let root: String

    public init(config: SlipwayConfig, routerExecutable: String, routerArguments: [String] = [], logger: Logger,
                cadence: Cadence = .standard) throws(SlipwayError) {
        try RootLayout.prepare(config, logger: logger)
        self.root = config.root
        let store = try SlipwayStore(path: config.databasePath)
        let cgroup = CgroupLimiter(path: config.server.cgroup)
        if config.server.cgroup != nil, let why = cgroup.why { logger.warning("process.memory_limit is measured, not enforced", metadata: ["reason": "\(why)"]) }
        let context = EngineContext(store: store, releases: ReleaseStore(directory: config.releasesDirectory),
                                    router: RouterController(root: config.root, executable: routerExecutable, extraArguments: routerArguments,
                                                             edge: config.edgeSocket, app: config.app),
                                    supervisor: Supervisor(store: store, root: config.root, secrets: Secrets(root: config.root), cgroup: cgroup,
                                                           launcher: routerExecutable, app: config.app, logger: logger),
                                    logger: logger, configs: ConfigSource(config), admission: Admission(), cadence: cadence)
        self.context = context
        self.access = Access(context: context)
        self.events = EventLog(context: context)
        self.signals = Signals(context: context)
        let accessories = Accessories(context: context)
        self.accessories = accessories
        let routing = Routing(context: context)
        self.routing = routing
        let processTypes = ProcessTypes(context: context, routing: routing)
        self.processTypes = processTypes
        self.reports = Reports(context: context, signals: signals, accessories: accessories, processTypes: processTypes)
        self.notifications = Notifications(context: context)
        let maintenanceModes = Maintenance(context: context, routing: routing)
        self.maintenanceModes = maintenanceModes
        self.backups = Backups(context: context, accessories: accessories, processTypes: processTypes, maintenance: maintenanceModes,
                               board: signals.continuousBoard)
        self.continuous = ContinuousArchiving(backups: backups, board: signals.continuousBoard)
        self.releaseBuilds = Releases(context: context)
        self.housekeeping = Housekeeping(context: context)
        self.capacity = Capacity(context: context, routing: routing, processTypes: processTypes)
        self.dataSteps = DeploymentData(context: context, backups: backups)
        self.webhooks = Webhooks(context: context, releases: releaseBuilds)
        self.deployments = Deployments(context: context, holder: "slipway daemon pid \(getpid()) on \(ProcessInfo.processInfo.hostName)",
                                       routing: routing, backups: backups, dataSteps: dataSteps, maintenanceModes: maintenanceModes,
                                       signals: signals, processTypes: processTypes)
        let deployments = self.deployments
        self.gitPoller = GitPoller(context: context, releases: releaseBuilds) { request throws(SlipwayError) in try await deployments.startDeployment(request) }
    }

    /// Re-reads slipway.yml so each operation runs with the file as it is now. A bad file changes nothing.
    @discardableResult
    public func reloadConfig() async throws(SlipwayError) -> SlipwayConfig { try await context.reloadConfig() }

    /// Runs on every daemon start: the outbox's cursor, webhook deliveries left running, commit times of
    /// earlier deployments, then the deployments' own recovery (instances re-adopted, interrupted deployments
    /// ended or resumed, the dead daemon's locks released, the table pushed).
    public func reconcile() async throws(SlipwayError) {
        notifications.startCursor()
        try webhooks.reconcile()
        // Deployments recorded before their commit time was: from the releases still on disk, once, so pruning
        // them later changes no report.
        let filled = try store.fillCommitTimes(reports.commitTimes())
        if filled > 0 { logger.info("recorded commit times of earlier deployments", metadata: ["deploy.count": "\(filled)"]) }
        try await deployments.recover()
        await maintenanceModes.liftRestoreHolds(config.environmentNames)
    }

    /// Where this daemon finds each named secret (its root's files as they are now, and its own environment).
    public nonisolated func secretSources(_ request: SecretSourcesRequest) -> [String: [SecretInfo]] {
        Secrets(root: root).sources(of: request.environments)
    }

    /// True when the state database answers a read (`/health/ready`).
    public nonisolated func storeAnswers() -> Bool { (try? store.locks()) != nil }

    public func releaseLock(environment: String?, actor: Principal) throws(SlipwayError) -> LockInfo? {
        let env = try config.environment(environment)
        return try Lease.forceRelease(store, environment: env.name, actor: actor, action: "lock.release", why: "released by hand")
    }

    public nonisolated func setLeaseSettings(_ settings: LeaseSettings) { context.admission.leaseSettings = settings }
}
