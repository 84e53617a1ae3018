import Foundation
import SlipwayCore
import SlipwayStore

/// Start the new release beside the old, gate on health, switch atomically, drain, keep the old
/// release warm. A release not ready by the deadline is refused; the old one never stopped serving.
struct BlueGreenStrategy: DeploymentStrategy {
    func run<S: DeploymentSteps>(_ d: inout DeploymentInfo, _ job: DeploymentJob, log: DeployLog, on steps: isolated S) async throws(SlipwayError) {
        let began = ContinuousClock.now
        let env = job.env
        let (previous, count) = try steps.startingPoint(env)
        let kept = previous.map { "\($0) kept serving" } ?? "nothing was serving"
        let (targets, failure) = try await steps.startAndVerify(&d, job, count: count, log: log)
        if let failure {
            try steps.step(&d, .failed, "refused: \(Strategies.firstLine(failure)); \(kept)", message: failure, log: log)
            return
        }
        if let failure = try await steps.preTrafficHook(d, job, targets: targets, log: log) {
            await steps.stop(targets, timeout: env.process.stopTimeout)
            try steps.step(&d, .failed, "refused: \(Strategies.firstLine(failure)); \(kept)", message: failure, log: log)
            return
        }
        try steps.step(&d, .switching, "switching \(env.name) from \(previous ?? "nothing") to \(d.version)", log: log)
        do {
            try await steps.switchTo(&d, env: env, targets: targets, previous: previous, log: log)
        } catch {
            try steps.step(&d, .rollingBack, "the switch failed: \(error.message)", log: log)
            await steps.restorePrevious(&d, job, log: log, reason: error.message)
            return
        }
        try steps.step(&d, .draining, "draining requests in flight on \(previous ?? "nothing") (up to \(DurationParsing.format(env.router.drainTimeout)))",
                       log: log)
        if let previous, previous != d.version {
            let left = await steps.waitForDrain(environment: env.name, pool: previous, timeout: env.router.drainTimeout)
            if left > 0 { steps.note(d, "drain timeout: \(left) request(s) still in flight on \(previous)", log: log) }
        }
        if let failure = try await steps.postSwitchHook(d, job, log: log) {
            try steps.step(&d, .rollingBack, "\(Strategies.firstLine(failure)); rolling back to \(previous ?? "nothing")", log: log)
            await steps.restorePrevious(&d, job, log: log, reason: failure)
            return
        }
        await steps.retire(env: env, keeping: Set(targets.compactMap(\.id)), warm: previous == d.version ? nil : previous, log: log, d: d)
        await steps.moveProcessTypes(d, env: env, log: log)
        try steps.step(&d, .succeeded, "\(d.version) is serving \(env.name) (\(Strategies.took(since: began)))", log: log)
        steps.pruneReleases(job.config)
    }
}
