import Foundation
import SlipwayCore
import SlipwayStore

/// Replace the serving release's instances `batch` at a time. Each batch of new instances is gated on
/// health, then joins the router beside the old ones (pool weights follow the instance counts), then as
/// many old instances leave. With `max_surge` ≥ the batch the new instances start first (capacity never
/// drops); otherwise old ones stop first, never more than a batch. A batch that is not ready stops the
/// rollout: the old release gets its full count back and serves alone (`rolled_back`).
struct RollingStrategy: DeploymentStrategy {
    func run<S: DeploymentSteps>(_ d: inout DeploymentInfo, _ job: DeploymentJob, log: DeployLog, on steps: isolated S) async throws(SlipwayError) {
        let env = job.env
        let (previous, count) = try steps.startingPoint(env)
        guard let previous, previous != d.version else {
            // Nothing (else) serving: nothing to roll over; start the release beside nothing.
            try await BlueGreenStrategy().run(&d, job, log: log, on: steps)
            return
        }
        let began = ContinuousClock.now
        let batch = min(env.rolling.batch, count), surge = env.rolling.maxSurge
        var rollout = Rollout(previous: previous, version: d.version,
                              old: try steps.instances(of: env).filter { $0.release == previous && $0.state == .running }.sorted { $0.slot < $1.slot })
        try steps.step(&d, .starting, "rolling \(env.name) from \(previous) to \(d.version), \(batch) at a time (max surge \(surge))", log: log)
        var round = 0
        while rollout.fresh.count < count {
            round += 1
            let k = min(batch, count - rollout.fresh.count)
            // Without room to surge, the old instances this batch replaces go first.
            let early = max(0, k - surge)
            if early > 0 { try await retireOld(early, &rollout, d: d, env: env, log: log, on: steps) }
            var started: [InstanceRecord] = []
            do {
                for _ in 0..<k { started.append(try await steps.start(job, release: d.version, slot: Strategies.freeSlot(rollout.fresh + started))) }
            } catch {
                await steps.stop(started, timeout: env.process.stopTimeout)
                try await abort(&d, job, "cannot start \(d.version): \(error.message)", log: log, on: steps)
                return
            }
            steps.note(d, "batch \(round): started \(started.map { "\(d.version)-\($0.slot) (pid \($0.pid), port \($0.port))" }.joined(separator: ", "))", log: log)
            guard await steps.gate(started, settings: env.health) == .ready else {
                await steps.stop(started, timeout: env.process.stopTimeout)
                try await abort(&d, job, "batch \(round) of \(d.version) was not ready within \(DurationParsing.format(env.health.deadline))",
                                log: log, on: steps)
                return
            }
            if round == 1, let failure = try await steps.preTrafficHook(d, job, targets: started, log: log) {
                await steps.stop(started, timeout: env.process.stopTimeout)
                try await abort(&d, job, failure, log: log, on: steps)
                return
            }
            try await steps.markServing(started, env: env)
            rollout.fresh += started
            try await steps.setWeights(rollout.weights, environment: env.name)
            steps.note(d, "batch \(round): \(rollout.fresh.count) of \(count) instance(s) of \(d.version) serving beside \(rollout.old.count) of \(previous)",
                       log: log)
            let late = min(rollout.old.count, max(0, rollout.old.count + rollout.fresh.count - count))
            if late > 0 { try await retireOld(late, &rollout, d: d, env: env, log: log, on: steps) }
        }
        try steps.step(&d, .verifying, "all \(count) instance(s) of \(d.version) are serving", log: log)
        try steps.step(&d, .switching, "\(d.version) serves \(env.name) alone", log: log)
        try await steps.switchTo(&d, env: env, targets: rollout.fresh, previous: previous, log: log)
        try steps.step(&d, .draining, "the last instances of \(previous) were drained batch by batch", log: log)
        if let failure = try await steps.postSwitchHook(d, job, log: log) {
            try await abort(&d, job, failure, log: log, on: steps)
            return
        }
        await steps.retire(env: env, keeping: Set(rollout.fresh.compactMap(\.id)), warm: nil, log: log, d: d)
        await steps.moveProcessTypes(d, env: env, log: log)
        try steps.step(&d, .succeeded, "\(d.version) is serving \(env.name) (\(Strategies.took(since: began)))", log: log)
        steps.pruneReleases(job.config)
    }

    /// The two releases' serving instances while the rollout runs.
    struct Rollout {
        let previous: String, version: String
        var old: [InstanceRecord]
        var fresh: [InstanceRecord] = []

        /// Each release's pool weight is its number of serving instances, so every instance carries as much.
        var weights: [String: Int] { [previous: old.count, version: fresh.count].filter { $0.value > 0 } }
    }

    /// Takes `n` old instances out of the router, then stops them.
    private func retireOld<S: DeploymentSteps>(_ n: Int, _ rollout: inout Rollout, d: DeploymentInfo, env: EnvironmentConfig, log: DeployLog,
                                               on steps: isolated S) async throws(SlipwayError) {
        let victims = Array(rollout.old.suffix(n))
        rollout.old.removeLast(victims.count)
        try steps.markLeaving(victims)
        try await steps.setWeights(rollout.weights, environment: env.name)
        _ = await steps.waitForDrain(environment: env.name, pool: rollout.previous, timeout: .milliseconds(200))
        await steps.stop(victims, timeout: env.process.stopTimeout)
        steps.note(d, "stopped \(victims.map { "\(rollout.previous)-\($0.slot)" }.joined(separator: ", "))", log: log)
    }

    /// The batch failed: the old release gets its instances back and serves alone.
    private func abort<S: DeploymentSteps>(_ d: inout DeploymentInfo, _ job: DeploymentJob, _ reason: String, log: DeployLog,
                                           on steps: isolated S) async throws(SlipwayError) {
        try steps.step(&d, .rollingBack, "\(Strategies.firstLine(reason)); \(d.previousVersion ?? "the previous release") takes all traffic again", log: log)
        await steps.restorePrevious(&d, job, log: log, reason: reason)
    }
}
