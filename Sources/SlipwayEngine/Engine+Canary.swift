import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// The canary's loop: every analysis interval it acts on a pending `canary promote|abort`, observes both
/// releases (router counters and windows, the canary's processes), lets `CanaryJudge` decide, and
/// advances, promotes or aborts. Every step is persisted before traffic moves; every decision is an event.
extension Engine {
    func runCanary(_ d: inout DeploymentInfo, _ job: DeploymentJob, log: DeployLog) async throws(SlipwayError) {
        let env = job.env
        var judge = CanaryJudge(settings: env.canary, analysis: env.analysis)
        // After a daemon restart: the sequential test goes on from the evidence saved with the step.
        if let evidence = try store.environment(env.name).canaryEvidence, evidence.deploymentId == d.id { judge.restore(evidence) }
        let interval = env.analysis?.interval ?? .seconds(1)
        var lastProgress = ContinuousClock.now - .seconds(60)
        // A step that has waited this many intervals for evidence (or at a manual pause) says so, once, in an event.
        var waiting = (step: -1, intervals: 0, told: false)
        while true {
            await canaryPause(env.name, interval)
            if deployments.isStopping { throw SlipwayError.daemonStopping }
            guard var c = try store.environment(env.name).canary, c.deploymentId == d.id else {
                throw SlipwayError(.internal, "the canary of deployment \(d.id) is no longer recorded on \(env.name)")
            }
            if let command = c.command {
                c.command = nil
                try saveCanary(env.name, c)
                let by = " by \(command.actor)" + (command.reason.map { ": \($0)" } ?? "")
                switch command.action {
                case .abort:
                    try await abortCanary(&d, job, c, reason: "aborted\(by)", analysis: c.last, bad: false, by: command.actor, log: log)
                    return
                case .promoteFull:
                    try await promoteCanary(&d, job, c, why: "promoted to 100%\(by)", log: log)
                    return
                case .promote:
                    if c.step + 1 >= c.steps {
                        try await promoteCanary(&d, job, c, why: "promoted\(by) after the last step", log: log)
                        return
                    }
                    try await advanceCanary(d, env, &c, why: "promoted\(by)", log: log)
                    continue
                }
            }
            let observation = await observeCanary(env, c)
            // Re-read after the await: a command may have arrived (it is acted on at the next interval).
            guard var current = try store.environment(env.name).canary, current.deploymentId == d.id else { continue }
            let (decision, analysis) = judge.observe(observation, step: current.step, stepStartedAt: current.stepStartedAt, at: Date())
            current.last = analysis
            var evidence = judge.evidence
            evidence.deploymentId = d.id
            try saveCanary(env.name, current, evidence: evidence)
            switch decision {
            case .fail(let reason):
                try await abortCanary(&d, job, current, reason: reason, analysis: analysis, bad: true, log: log)
                return
            case .inconclusive(let reason):
                // Too little traffic or evidence says nothing against the release: it is not remembered as bad.
                try await abortCanary(&d, job, current, reason: reason, analysis: analysis, bad: false, log: log)
                return
            case .advance(let why):
                if current.step + 1 >= current.steps {
                    try await promoteCanary(&d, job, current, why: why, log: log)
                    return
                }
                try await advanceCanary(d, env, &current, why: why, analysis: analysis, log: log)
            case .hold(let why), .wait(let why):
                if waiting.step != current.step { waiting = (current.step, 0, false) }
                if analysis.decision != .pause { waiting.intervals += 1 }
                if !waiting.told, analysis.decision == .wait || waiting.intervals >= 5 {
                    waiting.told = true
                    canaryEvent(d, current, .held, why, analysis: analysis, log: log)
                } else if ContinuousClock.now - lastProgress >= .seconds(5) {
                    lastProgress = ContinuousClock.now
                    note(d, Self.progressLine(current, analysis), log: log)
                }
            }
        }
    }

    /// `step 1 (5%): canary 120 req, 0.0% errors, p99 12 ms | stable 2280 req, 0.1%, p99 11 ms | hold: …`
    nonisolated static func progressLine(_ c: CanaryInfo, _ a: CanaryAnalysis) -> String {
        let ms = CanaryJudge.milliseconds
        return "step \(c.step + 1) (\(c.weight)%): canary \(a.canary.requests) req, \(CanaryJudge.percent(a.canary.rate)) errors, p99 \(ms(a.canaryP99Ms))"
            + " | stable \(a.stable.requests) req, \(CanaryJudge.percent(a.stable.rate)), p99 \(ms(a.stableP99Ms)) | \(a.decision.rawValue): \(a.detail)"
    }

    private func saveCanary(_ name: String, _ c: CanaryInfo, evidence: CanaryJudge.Evidence? = nil) throws(SlipwayError) {
        var record = try store.environment(name)
        record.canary = c
        if let evidence { record.canaryEvidence = evidence }
        try store.save(record)
    }

    /// The next step: its weight is persisted, then pushed to the router.
    private func advanceCanary(_ d: DeploymentInfo, _ env: EnvironmentConfig, _ c: inout CanaryInfo, why: String, analysis: CanaryAnalysis? = nil,
                               log: DeployLog) async throws(SlipwayError) {
        c.step += 1
        c.weight = env.canary.weight(at: c.step)
        c.stepStartedAt = Date()
        var record = try store.environment(env.name)
        record.canary = c
        record.rollout = [c.stable: 100 - c.weight, c.release: c.weight]
        try store.save(record)
        try await pushTable()
        canaryEvent(d, c, .step, "\(why); step \(c.step + 1) of \(c.steps): \(c.weight)% of requests go to \(c.release)", analysis: analysis, log: log)
    }

    /// Traffic back on the stable release at once, then the canary stopped and the deployment rolled back.
    /// A canary failed by analysis is remembered as bad (deploying it again needs --force).
    /// `by`: the person who aborted it (`canary abort`); nil when Slipway reverts it on its own.
    func abortCanary(_ d: inout DeploymentInfo, _ job: DeploymentJob, _ c: CanaryInfo, reason: String, analysis: CanaryAnalysis?, bad: Bool,
                     by person: String? = nil, log: DeployLog) async throws(SlipwayError) {
        let env = job.env
        try step(&d, .rollingBack, "canary aborted: \(reason); all traffic back to \(c.stable)", reason: person == nil ? .reverted : .aborted, log: log)
        var record = try store.environment(env.name)
        record.canary = nil
        record.rollout = nil
        if bad { record.badReleases = (record.badReleases ?? [:]).merging([c.release: "canary analysis: \(reason)"]) { $1 } }
        try store.save(record)
        try await pushTable()
        canaryEvent(d, c, .aborted, reason, analysis: analysis, log: log, note: false)  // the transition says it
        await restorePrevious(&d, job, log: log, reason: "canary aborted: \(reason)")
    }

    /// The release takes all traffic: its other instances start and pass the health gate, then the switch.
    func promoteCanary(_ d: inout DeploymentInfo, _ job: DeploymentJob, _ c: CanaryInfo, why: String, log: DeployLog) async throws(SlipwayError) {
        let env = job.env
        let (_, count) = try startingPoint(env)
        var targets = try store.instances(environment: env.name).filter { $0.release == d.version && $0.state == .running }
        note(d, "\(why); promoting \(d.version): starting \(max(0, count - targets.count)) more instance(s)", log: log)
        var fresh: [InstanceRecord] = []
        while targets.count + fresh.count < count {
            do {
                fresh.append(try await supervisor.start(app: job.config.app, env: env, release: d.version, slot: Self.freeSlot(targets + fresh)))
            } catch {
                await supervisor.stopAll(fresh, timeout: env.process.stopTimeout)
                try await abortCanary(&d, job, c, reason: "cannot start more instances to promote: \(error.message)", analysis: c.last, bad: false, log: log)
                return
            }
        }
        if !fresh.isEmpty, await gate(fresh, settings: env.health) != .ready {
            await supervisor.stopAll(fresh, timeout: env.process.stopTimeout)
            try await abortCanary(&d, job, c, reason: "the promoted instances were not ready within \(DurationParsing.format(env.health.deadline))",
                                  analysis: c.last, bad: false, log: log)
            return
        }
        targets += fresh
        canaryEvent(d, c, .promoted, why, analysis: c.last, log: log)
        try step(&d, .switching, "switching \(env.name) from \(c.stable) to \(d.version) (100%)", log: log)
        var record = try store.environment(env.name)
        record.canary = nil
        try store.save(record)
        try await switchTo(&d, env: env, targets: targets, previous: c.stable, log: log)
        try step(&d, .draining, "draining requests in flight on \(c.stable)", log: log)
        let left = await waitForDrain(environment: env.name, pool: c.stable, timeout: env.router.drainTimeout)
        if left > 0 { note(d, "drain timeout: \(left) request(s) still in flight on \(c.stable)", log: log) }
        if let failure = try await postSwitchHook(d, job, log: log) {
            try step(&d, .rollingBack, "\(Engine.firstLine(failure)); rolling back to \(c.stable)", log: log)
            await restorePrevious(&d, job, log: log, reason: failure)
            return
        }
        await retire(env: env, keeping: Set(targets.compactMap(\.id)), warm: c.stable, log: log, d: d)
        try step(&d, .succeeded, "\(d.version) is serving \(env.name) (canary promoted after \(DurationParsing.format(.seconds(Int64(Date().timeIntervalSince(c.startedAt))))))",
                 log: log)
        pruneReleases(job.config)
    }

    /// What the canary and the stable release did since the canary started, and the canary's processes.
    func observeCanary(_ env: EnvironmentConfig, _ c: CanaryInfo) async -> CanaryObservation {
        let stats = try? await router.stats()
        let pools = stats?[env.name]
        let cp = pools?[c.release], sp = pools?[c.stable]
        let all = (try? store.instances(environment: env.name)) ?? []
        let instances = all.filter { $0.release == c.release && $0.state != .standby && $0.state != .stopping }
        let stables = all.filter { $0.release == c.stable && $0.state == .running }
        let alive = instances.filter { ProcessInspector.isAlive(pid: $0.pid, startTime: UInt64($0.procStartTime)) }
        let canaryUse = await supervisor.resources(instances)
        let stableUse = await supervisor.resources(stables)
        let limit = env.process.memoryLimit
        let canaryRestarts = instances.reduce(0) { $0 + $1.restarts }, stableRestarts = stables.reduce(0) { $0 + $1.restarts }
        var windows: [CanaryWindow] = []
        for (name, seconds) in Self.windowSeconds {
            let cw = cp?.windows[name].map { Self.sample($0, seconds: seconds) } ?? MetricSample(rps: 0)
            let sw = sp?.windows[name].map { Self.sample($0, seconds: seconds) } ?? MetricSample(rps: 0)
            windows.append(CanaryWindow(name: name, canary: cw.with(canaryUse, restarts: canaryRestarts, memoryLimit: limit),
                                        stable: sw.with(stableUse, restarts: stableRestarts, memoryLimit: limit)))
        }
        let readings = await Self.readProviders(of: env)
        var o = CanaryObservation(canary: Self.since(c.baseCanary, Self.counts(cp)), stable: Self.since(c.baseStable, Self.counts(sp)), windows: windows,
                                  instances: instances.count, alive: alive.count, ready: alive.filter(\.ready).count,
                                  restarts: instances.reduce(0) { $0 + $1.restarts }, upstreamErrors: cp?.upstreamErrors ?? 0)
        o.providers = readings
        return o
    }

    nonisolated static func counts(_ p: PoolStatsSnapshot?) -> RequestCounts {
        RequestCounts(requests: p?.requests ?? 0, errors: p?.responses5xx ?? 0)
    }

    /// Counts since `base`; a router restart (counters lower than the base) counts from zero.
    nonisolated static func since(_ base: RequestCounts, _ now: RequestCounts) -> RequestCounts {
        guard now.requests >= base.requests, now.errors >= base.errors else { return now }
        return RequestCounts(requests: now.requests - base.requests, errors: now.errors - base.errors)
    }

    /// A router window as analysis sees it; `seconds` is the window's length (for `rps`).
    nonisolated static func sample(_ w: WindowStats, seconds: Double) -> MetricSample {
        var latency: [Double: Double] = [50: w.p50Ms / 1000, 90: w.p90Ms / 1000, 99: w.p99Ms / 1000]
        if w.p95Ms > 0 || w.requests == 0 { latency[95] = w.p95Ms / 1000 }
        return MetricSample(requests: w.requests, errors: w.responses5xx + w.failed, latency: latency, rps: Double(w.requests) / seconds)
    }

    /// The router's windows and their lengths.
    nonisolated static let windowSeconds: [(name: String, seconds: Double)] = [("10s", 10), ("1m", 60), ("5m", 300)]

    func canaryEvent(_ d: DeploymentInfo, _ c: CanaryInfo, _ change: EventPayload.Canary.Change, _ detail: String, analysis: CanaryAnalysis? = nil,
                     log: DeployLog, note noteIt: Bool = true) {
        store.record(Event(environment: d.environment, deploymentId: d.id,
                           payload: .canary(.init(change: change, release: c.release, stable: c.stable, step: c.step + 1, weight: c.weight,
                                                  detail: detail, analysis: analysis))), orLog: logger)
        if noteIt { note(d, "canary \(change.rawValue): \(detail)", log: log) }
    }

    /// Sleeps one interval; `wakeCanary` ends it early (a promote or an abort is acted on at once).
    func canaryPause(_ environment: String, _ interval: Duration) async {
        let sleeper = Task { _ = try? await Task.sleep(for: interval) }
        canaryWakers[environment] = sleeper
        await sleeper.value
        if canaryWakers[environment] == sleeper { canaryWakers[environment] = nil }
    }

    func wakeCanary(_ environment: String) { canaryWakers[environment]?.cancel() }
}
