import Foundation
import SlipwayCore
import SlipwayStore

/// Stop the old release, start the new one; requests get 503 + Retry-After in between. A new release
/// that is not ready is stopped and the old one is started again.
struct RecreateStrategy: DeploymentStrategy {
    func run<S: DeploymentSteps>(_ d: inout DeploymentInfo, _ job: DeploymentJob, log: DeployLog, on steps: isolated S) async throws(SlipwayError) {
        let began = ContinuousClock.now
        let env = job.env
        let (previous, count) = try steps.startingPoint(env)
        let old = try steps.instances(of: env)
        try steps.step(&d, .stoppingOld, "stopping \(old.count) instance(s) of \(previous ?? "nothing")", log: log)
        try steps.markLeaving(old)
        await steps.pushTableLogged()
        await steps.stop(old, timeout: env.process.stopTimeout)
        let (targets, failure) = try await steps.startAndVerify(&d, job, count: count, log: log)
        if let failure {
            try steps.step(&d, .rollingBack, "refused: \(Strategies.firstLine(failure)); restarting \(previous ?? "nothing")", log: log)
            await steps.restorePrevious(&d, job, log: log, reason: failure)
            return
        }
        if let failure = try await steps.preTrafficHook(d, job, targets: targets, log: log) {
            try steps.step(&d, .rollingBack, "refused: \(Strategies.firstLine(failure)); restarting \(previous ?? "nothing")", log: log)
            await steps.restorePrevious(&d, job, log: log, reason: failure)
            return
        }
        try steps.step(&d, .switching, "switching \(env.name) to \(d.version)", log: log)
        try await steps.switchTo(&d, env: env, targets: targets, previous: previous, log: log)
        try steps.step(&d, .draining, "nothing to drain (recreate)", log: log)
        if let failure = try await steps.postSwitchHook(d, job, log: log) {
            try steps.step(&d, .rollingBack, "\(Strategies.firstLine(failure)); rolling back to \(previous ?? "nothing")", log: log)
            await steps.restorePrevious(&d, job, log: log, reason: failure)
            return
        }
        await steps.moveProcessTypes(d, env: env, log: log)
        try steps.step(&d, .succeeded, "\(d.version) is serving \(env.name) (\(Strategies.took(since: began)))", log: log)
        steps.pruneReleases(job.config)
    }
}
