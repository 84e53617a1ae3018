import Foundation
import SlipwayCore
import SlipwayStore

/// Start `canary.instances` of the new release beside the serving one, gate them on health and the
/// pre-traffic hook, then move traffic to them step by step under analysis (`Engine.runCanary`). A failed
/// step, an abort or a dead canary puts all traffic back on the stable release at once; after the last
/// step the release is promoted: its other instances start and it takes all traffic (the stable one stays
/// warm for the watch). A deployment resumed after a daemon restart continues at its persisted step.
struct CanaryStrategy: DeploymentStrategy {
    func run(_ d: inout DeploymentInfo, _ job: DeploymentJob, log: DeployLog, engine: isolated Engine) async throws(SlipwayError) {
        let env = job.env
        if let c = try engine.store.environment(env.name).canary, c.deploymentId == d.id {
            engine.note(d, "resuming the canary at step \(c.step + 1) of \(c.steps) (\(c.weight)%)", log: log)
            try await engine.runCanary(&d, job, log: log)
            return
        }
        let (previous, count) = try engine.startingPoint(env)
        guard let previous, previous != d.version else {
            // Nothing (else) serving: no baseline to compare with; start the release beside nothing.
            engine.note(d, "nothing else serves \(env.name): no canary, deploying blue-green", log: log)
            try await BlueGreenStrategy().run(&d, job, log: log, engine: engine)
            return
        }
        let n = min(env.canary.instances, count)
        let (targets, failure) = try await engine.startAndVerify(&d, job, count: n, log: log)
        if let failure {
            try engine.step(&d, .failed, "refused: \(Engine.firstLine(failure)); \(previous) kept serving", message: failure, log: log)
            return
        }
        if let failure = try await engine.preTrafficHook(d, job, targets: targets, log: log) {
            await engine.supervisor.stopAll(targets, timeout: env.process.stopTimeout)
            try engine.step(&d, .failed, "refused: \(Engine.firstLine(failure)); \(previous) kept serving", message: failure, log: log)
            return
        }
        let stats = try? await engine.router.stats()
        let pools = stats?[env.name]
        try await engine.markServing(targets, env: env)
        let weight = env.canary.weight(at: 0)
        var record = try engine.store.environment(env.name)
        var c = CanaryInfo(deploymentId: d.id, release: d.version, stable: previous, step: 0, steps: env.canary.steps.count, weight: weight,
                           plan: env.canary.plan, startedAt: Date(), baseCanary: Engine.counts(pools?[d.version]),
                           baseStable: Engine.counts(pools?[previous]))
        c.stepStartedAt = c.startedAt
        record.canary = c
        record.rollout = [previous: 100 - weight, d.version: weight]
        // A watch of the stable release ends here: from now on its figures mix with the canary's judgement.
        record.watch = nil
        try engine.step(&d, .canary, "canary: \(n) instance(s) of \(d.version) beside \(previous); steps \(c.plan)"
                        + (env.canary.sticky.map { ", sticky by \($0)" } ?? ""), log: log)
        try engine.store.save(record)
        try await engine.pushTable()
        engine.canaryEvent(d, c, .started, "step 1 of \(c.steps): \(weight)% of requests go to \(d.version)", log: log)
        try await engine.runCanary(&d, job, log: log)
    }
}
