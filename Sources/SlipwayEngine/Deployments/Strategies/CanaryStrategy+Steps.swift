import Foundation
import SlipwayCore
import SlipwayStore

/// The canary's loop: every analysis interval it acts on a pending `canary promote|abort`, observes both
/// releases (router counters and windows, the canary's processes), lets `CanaryJudge` decide, and
/// advances, promotes or aborts. Every step is persisted before traffic moves; every decision is an event.
extension CanaryStrategy {
    func analyse<S: DeploymentSteps>(_ d: inout DeploymentInfo, _ job: DeploymentJob, log: DeployLog, on steps: isolated S) async throws(SlipwayError) {
        let env = job.env
        var judge = CanaryJudge(settings: env.canary, analysis: env.analysis)
        // After a daemon restart: the sequential test goes on from the evidence saved with the step.
        if let evidence = try steps.canary(of: env.name).evidence, evidence.deploymentId == d.id { judge.restore(evidence) }
        let interval = env.analysis?.interval ?? .seconds(1)
        var lastProgress = ContinuousClock.now - .seconds(60)
        // A step that has waited this many intervals for evidence (or at a manual pause) says so, once, in an event.
        var waiting = (step: -1, intervals: 0, told: false)
        while true {
            await steps.canaryPause(env.name, interval)
            if steps.isStopping { throw SlipwayError.daemonStopping }
            guard var c = try steps.canary(of: env.name).info, c.deploymentId == d.id else {
                throw SlipwayError(.internal, "the canary of deployment \(d.id) is no longer recorded on \(env.name)")
            }
            if let command = try steps.takeCanaryCommand(environment: env.name, deploymentId: d.id) {
                c.command = nil
                let by = " by \(command.actor)" + (command.reason.map { ": \($0)" } ?? "")
                switch command.action {
                case .abort:
                    try await abort(&d, job, c, reason: "aborted\(by)", analysis: c.last, bad: false, by: command.actor, log: log, on: steps)
                    return
                case .promoteFull:
                    try await promote(&d, job, c, why: "promoted to 100%\(by)", log: log, on: steps)
                    return
                case .promote:
                    if c.step + 1 >= c.steps {
                        try await promote(&d, job, c, why: "promoted\(by) after the last step", log: log, on: steps)
                        return
                    }
                    try await advance(d, env, &c, why: "promoted\(by)", log: log, on: steps)
                    continue
                }
            }
            let observation = await steps.observeCanary(env, c)
            // Re-read after the await: a command may have arrived (it is acted on at the next interval).
            guard var current = try steps.canary(of: env.name).info, current.deploymentId == d.id else { continue }
            let (decision, analysis) = judge.observe(observation, step: current.step, stepStartedAt: current.stepStartedAt, at: Date())
            current.last = analysis
            var evidence = judge.evidence
            evidence.deploymentId = d.id
            try steps.saveCanary(current, environment: env.name, evidence: evidence)
            switch decision {
            case .fail(let reason):
                try await abort(&d, job, current, reason: reason, analysis: analysis, bad: true, log: log, on: steps)
                return
            case .inconclusive(let reason):
                // Too little traffic or evidence says nothing against the release: it is not remembered as bad.
                try await abort(&d, job, current, reason: reason, analysis: analysis, bad: false, log: log, on: steps)
                return
            case .advance(let why):
                if current.step + 1 >= current.steps {
                    try await promote(&d, job, current, why: why, log: log, on: steps)
                    return
                }
                try await advance(d, env, &current, why: why, analysis: analysis, log: log, on: steps)
            case .hold(let why), .wait(let why):
                if waiting.step != current.step { waiting = (current.step, 0, false) }
                if analysis.decision != .pause { waiting.intervals += 1 }
                if !waiting.told, analysis.decision == .wait || waiting.intervals >= 5 {
                    waiting.told = true
                    steps.canaryEvent(d, current, .held, why, analysis: analysis, log: log)
                } else if ContinuousClock.now - lastProgress >= .seconds(5) {
                    lastProgress = ContinuousClock.now
                    steps.note(d, Self.progressLine(current, analysis), log: log)
                }
            }
        }
    }

    /// `step 1 (5%): canary 120 req, 0.0% errors, p99 12 ms | stable 2280 req, 0.1%, p99 11 ms | hold: …`
    static func progressLine(_ c: CanaryInfo, _ a: CanaryAnalysis) -> String {
        let ms = CanaryJudge.milliseconds
        return "step \(c.step + 1) (\(c.weight)%): canary \(a.canary.requests) req, \(CanaryJudge.percent(a.canary.rate)) errors, p99 \(ms(a.canaryP99Ms))"
            + " | stable \(a.stable.requests) req, \(CanaryJudge.percent(a.stable.rate)), p99 \(ms(a.stableP99Ms)) | \(a.decision.rawValue): \(a.detail)"
    }

    /// The next step: its weight is persisted, then pushed to the router.
    private func advance<S: DeploymentSteps>(_ d: DeploymentInfo, _ env: EnvironmentConfig, _ c: inout CanaryInfo, why: String,
                                             analysis: CanaryAnalysis? = nil, log: DeployLog, on steps: isolated S) async throws(SlipwayError) {
        c.step += 1
        c.weight = env.canary.weight(at: c.step)
        c.stepStartedAt = Date()
        try await steps.advanceCanary(c, environment: env.name)
        steps.canaryEvent(d, c, .step, "\(why); step \(c.step + 1) of \(c.steps): \(c.weight)% of requests go to \(c.release)", analysis: analysis, log: log)
    }

    /// Traffic back on the stable release at once, then the canary stopped and the deployment rolled back.
    /// A canary failed by analysis is remembered as bad (deploying it again needs --force).
    /// `by`: the person who aborted it (`canary abort`); nil when Slipway reverts it on its own.
    private func abort<S: DeploymentSteps>(_ d: inout DeploymentInfo, _ job: DeploymentJob, _ c: CanaryInfo, reason: String, analysis: CanaryAnalysis?,
                                           bad: Bool, by person: String? = nil, log: DeployLog, on steps: isolated S) async throws(SlipwayError) {
        try steps.step(&d, .rollingBack, "canary aborted: \(reason); all traffic back to \(c.stable)", message: nil,
                       reason: person == nil ? .reverted : .aborted, log: log)
        try await steps.endCanary(environment: job.env.name, bad: bad ? (c.release, "canary analysis: \(reason)") : nil)
        steps.canaryEvent(d, c, .aborted, reason, analysis: analysis, log: log, note: false)  // the transition says it
        await steps.restorePrevious(&d, job, log: log, reason: "canary aborted: \(reason)")
    }

    /// The release takes all traffic: its other instances start and pass the health gate, then the switch.
    private func promote<S: DeploymentSteps>(_ d: inout DeploymentInfo, _ job: DeploymentJob, _ c: CanaryInfo, why: String, log: DeployLog,
                                             on steps: isolated S) async throws(SlipwayError) {
        let env = job.env
        let (_, count) = try steps.startingPoint(env)
        var targets = try steps.instances(of: env).filter { $0.release == d.version && $0.state == .running }
        steps.note(d, "\(why); promoting \(d.version): starting \(max(0, count - targets.count)) more instance(s)", log: log)
        var fresh: [InstanceRecord] = []
        while targets.count + fresh.count < count {
            do {
                fresh.append(try await steps.start(job, release: d.version, slot: Strategies.freeSlot(targets + fresh)))
            } catch {
                await steps.stop(fresh, timeout: env.process.stopTimeout)
                try await abort(&d, job, c, reason: "cannot start more instances to promote: \(error.message)", analysis: c.last, bad: false,
                                log: log, on: steps)
                return
            }
        }
        if !fresh.isEmpty, await steps.gate(fresh, settings: env.health) != .ready {
            await steps.stop(fresh, timeout: env.process.stopTimeout)
            try await abort(&d, job, c, reason: "the promoted instances were not ready within \(DurationParsing.format(env.health.deadline))",
                            analysis: c.last, bad: false, log: log, on: steps)
            return
        }
        targets += fresh
        steps.canaryEvent(d, c, .promoted, why, analysis: c.last, log: log)
        try steps.step(&d, .switching, "switching \(env.name) from \(c.stable) to \(d.version) (100%)", log: log)
        // No more commands for this canary: from here it is a switch (which clears its weights).
        try steps.saveCanary(nil, environment: env.name, evidence: nil)
        try await steps.switchTo(&d, env: env, targets: targets, previous: c.stable, log: log)
        try steps.step(&d, .draining, "draining requests in flight on \(c.stable)", log: log)
        let left = await steps.waitForDrain(environment: env.name, pool: c.stable, timeout: env.router.drainTimeout)
        if left > 0 { steps.note(d, "drain timeout: \(left) request(s) still in flight on \(c.stable)", log: log) }
        if let failure = try await steps.postSwitchHook(d, job, log: log) {
            try steps.step(&d, .rollingBack, "\(Strategies.firstLine(failure)); rolling back to \(c.stable)", log: log)
            await steps.restorePrevious(&d, job, log: log, reason: failure)
            return
        }
        await steps.retire(env: env, keeping: Set(targets.compactMap(\.id)), warm: c.stable, log: log, d: d)
        await steps.moveProcessTypes(d, env: env, log: log)
        try steps.step(&d, .succeeded, "\(d.version) is serving \(env.name) (canary promoted after "
                       + "\(DurationParsing.format(.seconds(Int64(Date().timeIntervalSince(c.startedAt))))))", log: log)
        steps.pruneReleases(job.config)
    }
}
