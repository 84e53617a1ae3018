import Foundation
import Logging
import SlipwayCore

import SlipwayRuntime
import SlipwayStore

extension Engine {
    /// Runs on every daemon start: re-adopts live instances, ends interrupted deployments (finished or
    /// rolled back, never half-switched), releases locks of the dead daemon, and pushes the table.
    public func reconcile() async throws(SlipwayError) {
        notifications.startCursor()
        try webhooks.reconcile()
        // Deployments recorded before their commit time was: from the releases still on disk, once, so pruning
        // them later changes no report.
        let filled = try store.fillCommitTimes(reports.commitTimes())
        if filled > 0 { logger.info("recorded commit times of earlier deployments", metadata: ["deploy.count": "\(filled)"]) }
        try await router.ensureRunning(logger: logger)
        let routed = try? await router.table()
        var adopted = 0
        for var i in try store.instances() {
            if ProcessInspector.isAlive(pid: i.pid, startTime: UInt64(i.procStartTime)) {
                adopted += 1
                continue
            }
            switch i.state {
            case .running, .crashed:
                // The supervision loop restarts it with back-off.
                i.state = .crashed
                i.ready = false
                try store.save(i)
            case .starting, .standby, .stopping, .stopped:
                // Its launcher is gone; whatever it forked goes too.
                _ = await ProcessGroup.stop(i.pid, startTime: UInt64(i.procStartTime), timeout: .seconds(1))
                if let id = i.id { try store.deleteInstance(id) }
            }
        }
        logger.info("re-adopted live instances", metadata: ["instance.count": "\(adopted)"])

        var resumed: [DeploymentInfo] = []
        for deployment in try store.activeDeployments() where deployment.state != .awaitingApproval {
            var d = deployment
            let log = DeployLog(path: d.logFile)
            guard let env = config.environments[d.environment] else {
                try step(&d, d.state.allowedNext.contains(.failed) ? .failed : .rollingBack,
                         "environment \(d.environment) is no longer in \(config.file)", log: log)
                continue
            }
            let servesNew = routed?.listener(env.name)?.servingRelease == d.version
            let news = try store.instances(environment: env.name).filter { $0.release == d.version && $0.state != .stopping }
            let prober = HealthProber()
            var allReady = !news.isEmpty
            for i in news where !(await prober.probe(port: i.port, path: env.health.path, timeout: env.health.timeout).success) { allReady = false }
            let action = DeploymentRecovery.action(for: d.state, routerServesNew: servesNew, newInstancesReady: allReady)
            note(d, "daemon restarted; deployment \(d.id) was interrupted in state \(d.state.rawValue) (router serves \(d.version): \(servesNew), new instances ready: \(allReady))", log: log)
            switch action {
            case .resume:
                resumed.append(d)
                continue
            case .finish:
                if d.state == .switching {
                    try await switchTo(&d, env: env, targets: news, previous: d.previousVersion, log: log)
                    try step(&d, .draining, "switch completed after the restart", log: log)
                }
                await retire(env: env, keeping: Set(news.compactMap(\.id)), warm: d.previousVersion == d.version ? nil : d.previousVersion, log: log, d: d)
                try step(&d, .succeeded, "\(d.version) is serving \(env.name) (finished after a daemon restart)", log: log)
            case .rollBack:
                if d.state == .pending {
                    try step(&d, .failed, "interrupted by a daemon restart before it started; nothing changed", reason: .interrupted, log: log)
                } else if !d.state.allowedNext.contains(.rollingBack) {
                    // Backing up, migrating or restoring data: no instance of the new release started, no traffic moved.
                    if d.state == .restoringData, let safety = try store.backups(environment: env.name)
                        .first(where: { $0.reason == "before_rollback" && $0.deploymentId == d.id }) {
                        await dataSteps.undoRollback(d, env: env, safety: safety, log: log, on: self)
                    }
                    try step(&d, .failed, "interrupted by a daemon restart in state \(deployment.state.rawValue), before any traffic moved; "
                             + "\(d.previousVersion.map { "\($0) kept serving" } ?? "nothing was serving")", reason: .interrupted, log: log)
                } else {
                    if d.state != .rollingBack {
                        try step(&d, .rollingBack, "interrupted by a daemon restart in state \(deployment.state.rawValue); rolling back to \(d.previousVersion ?? "nothing")",
                                 reason: .interrupted, log: log)
                    }
                    await restorePrevious(&d, cfg: config, env: env, log: log, reason: "interrupted by a daemon restart in state \(deployment.state.rawValue)")
                }
                await releaseTraffic(env, for: d)
            }
            try store.audit(.daemon(holder), action: "deploy.recover", target: "\(env.name)/\(d.version)", outcome: (try? store.deployment(d.id))?.outcome ?? "?",
                        detail: "deployment \(d.id) interrupted in state \(deployment.state.rawValue)")
        }
        for lock in try store.locks() {
            _ = try Lease.forceRelease(store, environment: lock.environment, actor: .daemon(holder), action: "lock.takeover", why: "left by a previous daemon run")
        }
        try await pushTable()
        for d in resumed { try resumeCanary(d) }
    }
}

extension Engine {
    /// A canary interrupted by a restart, with its instances alive and ready, continues at its step under a
    /// new lease (its data steps are not run again).
    func resumeCanary(_ d: DeploymentInfo) throws(SlipwayError) {
        let cfg = config
        let env = try cfg.environment(d.environment)
        let (lease, _) = try Lease.acquire(store, environment: env.name, holder: "deploy of \(d.version) by \(d.actor) (resumed)", actor: d.by,
                                           settings: leaseSettings, logger: logger) { _, _ in }
        guard deployments.submit(DeploymentJob(deployment: d, config: cfg, env: env, lease: lease, data: nil, resume: true)) else {
            lease.release()
            return
        }
        try store.audit(.daemon(holder), action: "deploy.recover", target: "\(env.name)/\(d.version)", outcome: "resumed",
                    detail: "deployment \(d.id): the canary continues at its step")
    }
}
