import Foundation
import SlipwayCore
import SlipwayStore

/// Stop the old release, start the new one; requests get 503 + Retry-After in between. A new release
/// that is not ready is stopped and the old one is started again.
struct RecreateStrategy: DeploymentStrategy {
    func run(_ d: inout DeploymentInfo, _ job: DeploymentJob, log: DeployLog, engine: isolated Engine) async throws(SlipwayError) {
        let began = ContinuousClock.now
        let env = job.env
        let (previous, count) = try engine.startingPoint(env)
        let old = try engine.store.instances(environment: env.name)
        try engine.step(&d, .stoppingOld, "stopping \(old.count) instance(s) of \(previous ?? "nothing")", log: log)
        for var i in old {
            i.state = .stopping
            i.ready = false
            try engine.store.save(i)
        }
        await engine.pushTableLogged()
        await engine.supervisor.stopAll(old, timeout: env.process.stopTimeout)
        let (targets, failure) = try await engine.startAndVerify(&d, job, count: count, log: log)
        if let failure {
            let first = Engine.firstLine(failure)
            try engine.step(&d, .rollingBack, "refused: \(first); restarting \(previous ?? "nothing")", log: log)
            await engine.restorePrevious(&d, job, log: log, reason: failure)
            return
        }
        if let failure = try await engine.preTrafficHook(d, job, targets: targets, log: log) {
            let first = Engine.firstLine(failure)
            try engine.step(&d, .rollingBack, "refused: \(first); restarting \(previous ?? "nothing")", log: log)
            await engine.restorePrevious(&d, job, log: log, reason: failure)
            return
        }
        try engine.step(&d, .switching, "switching \(env.name) to \(d.version)", log: log)
        try await engine.switchTo(&d, env: env, targets: targets, previous: previous, log: log)
        try engine.step(&d, .draining, "nothing to drain (recreate)", log: log)
        if let failure = try await engine.postSwitchHook(d, job, log: log) {
            let first = Engine.firstLine(failure)
            try engine.step(&d, .rollingBack, "\(first); rolling back to \(previous ?? "nothing")", log: log)
            await engine.restorePrevious(&d, job, log: log, reason: failure)
            return
        }
        let took = ContinuousClock.now - began
        try engine.step(&d, .succeeded, "\(d.version) is serving \(env.name) (took \(String(format: "%.2f", took.seconds))s)", log: log)
        engine.pruneReleases(job.config)
    }
}
