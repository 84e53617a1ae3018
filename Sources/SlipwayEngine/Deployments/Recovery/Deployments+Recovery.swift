import Foundation
import Logging
import SlipwayCore

import SlipwayRuntime
import SlipwayStore

extension Deployments {
    /// Runs on every daemon start (`Engine.reconcile`): re-adopts live instances, ends interrupted deployments
    /// (finished or rolled back, never half-switched), releases locks of the dead daemon, and pushes the table.
    func recover() async throws(SlipwayError) {
        try await router.ensureRunning(logger: logger)
        let routed = try? await router.table()
        let adopted = try await instanceSteps.readopt()
        logger.info("re-adopted live instances", metadata: ["instance.count": "\(adopted)"])

        var resumed: [DeploymentInfo] = []
        for deployment in try store.activeDeployments() where deployment.state != .awaitingApproval {
            let env = config.environments[deployment.environment]
            var interrupted = InterruptedDeployment(deployment: deployment, env: env, file: config.file, routerServesNew: false,
                                                    newInstances: [], newInstancesReady: false)
            if let env {
                interrupted.routerServesNew = routed?.listener(env.name)?.servingRelease == deployment.version
                let news = try store.instances(environment: env.name).filter { $0.release == deployment.version && $0.state != .stopping }
                let prober = HealthProber()
                var allReady = !news.isEmpty
                for i in news where !(await prober.probe(port: i.port, path: env.health.path, timeout: env.health.timeout).success) { allReady = false }
                interrupted.newInstances = news
                interrupted.newInstancesReady = allReady
                if deployment.state == .restoringData {
                    interrupted.safety = try store.data.backups(environment: env.name)
                        .first { $0.reason == "before_rollback" && $0.deploymentId == deployment.id }
                }
            }
            if try await interrupted.end(on: self) == .resume {
                resumed.append(deployment)
                continue
            }
            guard env != nil else { continue }
            try store.audit(.daemon(holder), action: "deploy.recover", target: "\(deployment.environment)/\(deployment.version)",
                            outcome: (try? store.deployment(deployment.id))?.outcome ?? "?",
                            detail: "deployment \(deployment.id) interrupted in state \(deployment.state.rawValue)")
        }
        for lock in try store.locks() {
            _ = try Lease.forceRelease(store, environment: lock.environment, actor: .daemon(holder), action: "lock.takeover", why: "left by a previous daemon run")
        }
        try await pushTable()
        for d in resumed { try resumeCanary(d) }
    }
}

extension Deployments {
    /// A canary interrupted by a restart, with its instances alive and ready, continues at its step under a
    /// new lease (its data steps are not run again).
    func resumeCanary(_ d: DeploymentInfo) throws(SlipwayError) {
        let cfg = config
        let env = try cfg.environment(d.environment)
        let (lease, _) = try Lease.acquire(store, environment: env.name, holder: "deploy of \(d.version) by \(d.actor) (resumed)", actor: d.by,
                                           settings: leaseSettings, logger: logger) { _, _ in }
        guard queue.submit(DeploymentJob(deployment: d, config: cfg, env: env, lease: lease, data: nil, resume: true)) else {
            lease.release()
            return
        }
        try store.audit(.daemon(holder), action: "deploy.recover", target: "\(env.name)/\(d.version)", outcome: "resumed",
                    detail: "deployment \(d.id): the canary continues at its step")
    }
}
