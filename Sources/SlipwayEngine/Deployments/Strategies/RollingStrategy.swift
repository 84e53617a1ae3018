import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// Replace the serving release's instances `batch` at a time. Each batch of new instances is gated on
/// health, then joins the router beside the old ones (pool weights follow the instance counts), then as
/// many old instances leave. With `max_surge` ≥ the batch the new instances start first (capacity never
/// drops); otherwise old ones stop first, never more than a batch. A batch that is not ready stops the
/// rollout: the old release gets its full count back and serves alone (`rolled_back`).
struct RollingStrategy: DeploymentStrategy {
    func run(_ d: inout DeploymentInfo, _ job: DeploymentJob, log: DeployLog, engine: isolated Engine) async throws(SlipwayError) {
        let env = job.env
        let (previous, count) = try engine.startingPoint(env)
        guard let previous, previous != d.version else {
            // Nothing (else) serving: nothing to roll over; start the release beside nothing.
            try await BlueGreenStrategy().run(&d, job, log: log, engine: engine)
            return
        }
        let began = ContinuousClock.now
        let batch = min(env.rolling.batch, count), surge = env.rolling.maxSurge
        var old = try engine.store.instances(environment: env.name).filter { $0.release == previous && $0.state == .running }.sorted { $0.slot < $1.slot }
        var fresh: [InstanceRecord] = []
        try engine.step(&d, .starting, "rolling \(env.name) from \(previous) to \(d.version), \(batch) at a time (max surge \(surge))", log: log)
        var round = 0
        while fresh.count < count {
            round += 1
            let k = min(batch, count - fresh.count)
            // Without room to surge, the old instances this batch replaces go first.
            let early = max(0, k - surge)
            if early > 0 { try await retireOld(early, &old, previous: previous, fresh: fresh, d: d, env: env, log: log, engine: engine) }
            var started: [InstanceRecord] = []
            do {
                for _ in 0..<k {
                    let slot = Engine.freeSlot(fresh + started)
                    started.append(try await engine.supervisor.start(app: job.config.app, env: env, release: d.version, slot: slot))
                }
            } catch {
                await engine.supervisor.stopAll(started, timeout: env.process.stopTimeout)
                try await abort(&d, job, "cannot start \(d.version): \(error.message)", log: log, engine: engine)
                return
            }
            engine.note(d, "batch \(round): started \(started.map { "\(d.version)-\($0.slot) (pid \($0.pid), port \($0.port))" }.joined(separator: ", "))", log: log)
            guard await engine.gate(started, settings: env.health) == .ready else {
                await engine.supervisor.stopAll(started, timeout: env.process.stopTimeout)
                try await abort(&d, job, "batch \(round) of \(d.version) was not ready within \(DurationParsing.format(env.health.deadline))",
                                log: log, engine: engine)
                return
            }
            if round == 1, let failure = try await engine.preTrafficHook(d, job, targets: started, log: log) {
                await engine.supervisor.stopAll(started, timeout: env.process.stopTimeout)
                try await abort(&d, job, failure, log: log, engine: engine)
                return
            }
            try await engine.markServing(started, env: env)
            fresh += started
            try await setWeights(previous: previous, old.count, d.version, fresh.count, env: env, engine: engine)
            engine.note(d, "batch \(round): \(fresh.count) of \(count) instance(s) of \(d.version) serving beside \(old.count) of \(previous)", log: log)
            let late = min(old.count, max(0, old.count + fresh.count - count))
            if late > 0 { try await retireOld(late, &old, previous: previous, fresh: fresh, d: d, env: env, log: log, engine: engine) }
        }
        try engine.step(&d, .verifying, "all \(count) instance(s) of \(d.version) are serving", log: log)
        try engine.step(&d, .switching, "\(d.version) serves \(env.name) alone", log: log)
        try await engine.switchTo(&d, env: env, targets: fresh, previous: previous, log: log)
        try engine.step(&d, .draining, "the last instances of \(previous) were drained batch by batch", log: log)
        if let failure = try await engine.postSwitchHook(d, job, log: log) {
            try await abort(&d, job, failure, log: log, engine: engine)
            return
        }
        await engine.retire(env: env, keeping: Set(fresh.compactMap(\.id)), warm: nil, log: log, d: d)
        let took = ContinuousClock.now - began
        try engine.step(&d, .succeeded, "\(d.version) is serving \(env.name) (took \(String(format: "%.2f", took.seconds))s)", log: log)
        engine.pruneReleases(job.config)
    }

    /// Takes `n` old instances out of the router, then stops them.
    private func retireOld(_ n: Int, _ old: inout [InstanceRecord], previous: String, fresh: [InstanceRecord], d: DeploymentInfo,
                           env: EnvironmentConfig, log: DeployLog, engine: isolated Engine) async throws(SlipwayError) {
        let victims = Array(old.suffix(n))
        old.removeLast(victims.count)
        for var i in victims {
            i.state = .stopping
            i.ready = false
            try engine.store.save(i)
        }
        try await setWeights(previous: previous, old.count, d.version, fresh.count, env: env, engine: engine)
        _ = await engine.waitForDrain(environment: env.name, pool: previous, timeout: .milliseconds(200))
        await engine.supervisor.stopAll(victims, timeout: env.process.stopTimeout)
        engine.note(d, "stopped \(victims.map { "\(previous)-\($0.slot)" }.joined(separator: ", "))", log: log)
    }

    /// Each release's pool weight is its number of serving instances, so every instance carries as much.
    private func setWeights(previous: String, _ oldCount: Int, _ version: String, _ newCount: Int, env: EnvironmentConfig,
                            engine: isolated Engine) async throws(SlipwayError) {
        var record = try engine.store.environment(env.name)
        record.rollout = [previous: oldCount, version: newCount].filter { $0.value > 0 }
        try engine.store.save(record)
        try await engine.pushTable()
    }

    /// The batch failed: the old release gets its instances back and serves alone.
    private func abort(_ d: inout DeploymentInfo, _ job: DeploymentJob, _ reason: String, log: DeployLog, engine: isolated Engine) async throws(SlipwayError) {
        let first = Engine.firstLine(reason)
        try engine.step(&d, .rollingBack, "\(first); \(d.previousVersion ?? "the previous release") takes all traffic again", log: log)
        await engine.restorePrevious(&d, job, log: log, reason: reason)
    }
}
