import Foundation
import SlipwayCore
import SlipwayStore

/// Start the new release beside the old, gate on health, switch atomically, drain, keep the old
/// release warm. A release not ready by the deadline is refused; the old one never stopped serving.
struct BlueGreenStrategy: DeploymentStrategy {
    func run(_ d: inout DeploymentInfo, _ job: DeploymentJob, log: DeployLog, engine: isolated Engine) async throws(SlipwayError) {
        let began = ContinuousClock.now
        let env = job.env
        let (previous, count) = try engine.startingPoint(env)
        let (targets, failure) = try await engine.startAndVerify(&d, job, count: count, log: log)
        if let failure {
            let first = Engine.firstLine(failure)
            try engine.step(&d, .failed, "refused: \(first); \(previous.map { "\($0) kept serving" } ?? "nothing was serving")", message: failure, log: log)
            return
        }
        if let failure = try await engine.preTrafficHook(d, job, targets: targets, log: log) {
            await engine.supervisor.stopAll(targets, timeout: env.process.stopTimeout)
            let first = Engine.firstLine(failure)
            try engine.step(&d, .failed, "refused: \(first); \(previous.map { "\($0) kept serving" } ?? "nothing was serving")", message: failure, log: log)
            return
        }
        try engine.step(&d, .switching, "switching \(env.name) from \(previous ?? "nothing") to \(d.version)", log: log)
        do {
            try await engine.switchTo(&d, env: env, targets: targets, previous: previous, log: log)
        } catch {
            try engine.step(&d, .rollingBack, "the switch failed: \(error.message)", log: log)
            await engine.restorePrevious(&d, job, log: log, reason: error.message)
            return
        }
        try engine.step(&d, .draining, "draining requests in flight on \(previous ?? "nothing") (up to \(DurationParsing.format(env.router.drainTimeout)))", log: log)
        if let previous, previous != d.version {
            let left = await engine.waitForDrain(environment: env.name, pool: previous, timeout: env.router.drainTimeout)
            if left > 0 { engine.note(d, "drain timeout: \(left) request(s) still in flight on \(previous)", log: log) }
        }
        if let failure = try await engine.postSwitchHook(d, job, log: log) {
            let first = Engine.firstLine(failure)
            try engine.step(&d, .rollingBack, "\(first); rolling back to \(previous ?? "nothing")", log: log)
            await engine.restorePrevious(&d, job, log: log, reason: failure)
            return
        }
        await engine.retire(env: env, keeping: Set(targets.compactMap(\.id)), warm: previous == d.version ? nil : previous, log: log, d: d)
        let took = ContinuousClock.now - began
        try engine.step(&d, .succeeded, "\(d.version) is serving \(env.name) (took \(String(format: "%.2f", took.seconds))s)", log: log)
        engine.pruneReleases(job.config)
    }
}
