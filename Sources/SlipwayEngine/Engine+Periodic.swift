import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// The engine's periodic jobs. Each runs in a `PeriodicService` of its own in the daemon's service group,
/// with its own period and name (see `Engine.periodicJobs`), instead of one pass that counted ticks.
extension Engine {
    /// A job the daemon runs every `period`: `name` is how the logs call it.
    public struct PeriodicJob: Sendable {
        public let name: String
        public let period: Duration
        public let run: @Sendable () async -> Void
    }

    /// Every periodic job, with its period.
    public nonisolated var periodicJobs: [PeriodicJob] {
        let every = context.cadence
        return [
            PeriodicJob(name: "supervision", period: every.supervision) { await self.supervise() },
            PeriodicJob(name: "alerts", period: every.alerts) { await self.signals.evaluateAlerts(now: Date()) },
            PeriodicJob(name: "approvals", period: every.approvals) { await self.deployments.startApprovedDeploys() },
            PeriodicJob(name: "router-liveness", period: every.routerLiveness) { await self.routing.keepRunning() },
            PeriodicJob(name: "retention", period: every.retention) { self.housekeeping.run(now: Date()) },
            PeriodicJob(name: "accessories", period: every.accessories) { await self.accessories.supervise() },
            PeriodicJob(name: "process-types", period: every.processTypes) { await self.processTypes.supervise() },
            PeriodicJob(name: "git-poll", period: .seconds(1)) { await self.gitPoller.pass() },
        ]
    }

    /// One supervision pass: crashed instances, readiness, expired warm standbys, and the post-deploy watch.
    public func supervise() async {
        let changed = await supervisor.tick(config: config)
        let now = Date()
        // Each environment's row, read once per pass for the standby and watch checks below.
        var records: [String: EnvironmentRecord] = [:]
        for name in config.environmentNames { records[name] = try? store.environment(name) }
        for name in config.environmentNames {
            guard let env = config.environments[name], let until = records[name]?.standbyUntil, until < now else { continue }
            let standby = ((try? store.instances(environment: name)) ?? []).filter { $0.state == .standby }
            if !standby.isEmpty {
                logger.info("warm standby expired; stopping", metadata: ["instance.env": "\(name)", "instance.count": "\(standby.count)"])
                await supervisor.stopAll(standby, timeout: env.process.stopTimeout)
            }
            // Only if no deployment set a new standby time meanwhile (the store checks, in the transaction).
            logger.write("end the warm standby", to: store) { () throws(SlipwayError) in try store.environments.endStandby(environment: name, until: until) }
        }
        await deployments.passWatches(now: now, watched: config.environmentNames.filter { records[$0]?.watch != nil })
        if changed { await routing.pushLogged() }
    }
}
