import Foundation
import SlipwayCore
import SlipwayStore

/// Start `canary.instances` of the new release beside the serving one, gate them on health and the
/// pre-traffic hook, then move traffic to them step by step under analysis (`CanaryStrategy+Steps.swift`).
/// A failed step, an abort or a dead canary puts all traffic back on the stable release at once; after the
/// last step the release is promoted: its other instances start and it takes all traffic (the stable one
/// stays warm for the watch). A deployment resumed after a daemon restart continues at its persisted step.
struct CanaryStrategy: DeploymentStrategy {
    func run<S: DeploymentSteps>(_ d: inout DeploymentInfo, _ job: DeploymentJob, log: DeployLog, on steps: isolated S) async throws(SlipwayError) {
        let env = job.env
        if let c = try steps.canary(of: env.name).info, c.deploymentId == d.id {
            steps.note(d, "resuming the canary at step \(c.step + 1) of \(c.steps) (\(c.weight)%)", log: log)
            try await analyse(&d, job, log: log, on: steps)
            return
        }
        let (previous, count) = try steps.startingPoint(env)
        guard let previous, previous != d.version else {
            // Nothing (else) serving: no baseline to compare with; start the release beside nothing.
            steps.note(d, "nothing else serves \(env.name): no canary, deploying blue-green", log: log)
            try await BlueGreenStrategy().run(&d, job, log: log, on: steps)
            return
        }
        let n = min(env.canary.instances, count)
        let (targets, failure) = try await steps.startAndVerify(&d, job, count: n, log: log)
        if let failure {
            try steps.step(&d, .failed, "refused: \(Strategies.firstLine(failure)); \(previous) kept serving", message: failure, log: log)
            return
        }
        if let failure = try await steps.preTrafficHook(d, job, targets: targets, log: log) {
            await steps.stop(targets, timeout: env.process.stopTimeout)
            try steps.step(&d, .failed, "refused: \(Strategies.firstLine(failure)); \(previous) kept serving", message: failure, log: log)
            return
        }
        let pools = await steps.poolCounts(environment: env.name)
        try await steps.markServing(targets, env: env)
        let weight = env.canary.weight(at: 0)
        var c = CanaryInfo(deploymentId: d.id, release: d.version, stable: previous, step: 0, steps: env.canary.steps.count, weight: weight,
                           plan: env.canary.plan, startedAt: Date(), baseCanary: pools?[d.version] ?? RequestCounts(),
                           baseStable: pools?[previous] ?? RequestCounts())
        c.stepStartedAt = c.startedAt
        try await steps.startCanary(&d, c, detail: "canary: \(n) instance(s) of \(d.version) beside \(previous); steps \(c.plan)"
                                        + (env.canary.sticky.map { ", sticky by \($0)" } ?? ""),
                                    event: "step 1 of \(c.steps): \(weight)% of requests go to \(d.version)", log: log)
        try await analyse(&d, job, log: log, on: steps)
    }
}
