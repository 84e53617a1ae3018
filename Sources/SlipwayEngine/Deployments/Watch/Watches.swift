import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// The post-deploy watch: after a switch the previous release stays warm for `watch`, and the new one is
/// judged every interval (`WatchJudge`: bursts of errors, crash loops, no ready instance, the analysis
/// rules); a failed verdict rolls back to the warm release, with the evidence in the rollback's first event.
/// The watch itself lives in the environment's record (it survives a restart); this actor owns each watched
/// environment's judge and the time of its last look (rebuilt after a restart).
actor Watches: FeatureObject {
    nonisolated let context: EngineContext
    /// The daemon run the watch's notes are written as.
    let holder: String
    private var judges: [String: WatchJudge] = [:]
    private var lastLook: [String: Date] = [:]

    init(context: EngineContext, holder: String) {
        self.context = context
        self.holder = holder
    }

    /// Starts the rollback the watch decided on (`Engine.startDeployment`, undoing the watched deployment).
    typealias RollBack = @Sendable (DeployRequest, _ undoing: Int64) async throws -> DeploymentInfo

    /// Starts watching a deployment that just succeeded (a deploy with a previous release, `watch` > 0).
    func start(_ d: DeploymentInfo, _ job: DeploymentJob) {
        let env = job.env
        // A release that now serves (deployed with --force) is no longer remembered as bad.
        if let record = try? store.environment(env.name), record.badReleases?[d.version] != nil, record.currentRelease == d.version {
            logger.write("forget that \(d.version) was bad", to: store) { () throws(SlipwayError) in
                try store.environments.markBad(d.version, why: nil, environment: env.name)
            }
        }
        guard d.kind == .deploy, env.watch > .zero, let previous = d.previousVersion, previous != d.version else { return }
        // The release to roll back to stays warm for the whole watch (`startWatch` keeps it so, if the release still serves).
        let watch = WatchInfo(deploymentId: d.id, release: d.version, previous: previous, until: Date().addingTimeInterval(env.watch.seconds))
        let started = logger.write("start the watch of \(d.version)", to: store) { () throws(SlipwayError) in
            try store.environments.startWatch(watch, environment: env.name)
        }
        guard started == true else { return }
        judges[env.name] = nil
        note(d, "watching \(d.version) for \(DurationParsing.format(env.watch)); \(previous) stays warm to roll back to", log: DeployLog(path: d.logFile))
    }

    /// One pass over the environments being watched (from the supervision loop).
    func pass(now: Date, watched: [String], rollBack: RollBack) async {
        guard !watched.isEmpty else { return }
        let stats = try? await router.stats()
        for name in watched {
            // Re-read after the await: a deployment may have ended or replaced the watch meanwhile.
            guard let env = config.environments[name], let record = try? store.environment(name), let w = record.watch else { continue }
            let interval = env.analysis?.interval ?? .seconds(1)
            if let last = lastLook[name], now.timeIntervalSince(last) < interval.seconds { continue }
            lastLook[name] = now
            if now >= w.until || record.currentRelease != w.release {
                endWatch(name, w, why: now >= w.until ? "watch over: \(w.release) stays" : "watch ended: \(record.currentRelease ?? "nothing") serves now")
                continue
            }
            let instances = ((try? store.instances(environment: name)) ?? []).filter { $0.release == w.release && $0.state != .standby && $0.state != .stopping }
            let restarts = instances.reduce(0) { $0 + $1.restarts }
            let pool = stats?[name]?[w.release]
            let used = await supervisor.resources(instances)
            let traffic = pool?.windows["10s"].map { MetricSample($0, seconds: 10) } ?? MetricSample(rps: 0)
            let window = traffic.with(used, restarts: restarts, memoryLimit: env.process.memoryLimit)
            var sample = WatchSample(requests: pool?.requests ?? 0, errors: (pool?.responses5xx ?? 0) + (pool?.upstreamErrors ?? 0),
                                     restarts: restarts, ready: instances.filter(\.ready).count,
                                     instances: instances.count, window: window)
            let readings = await MetricProviders.readProviders(of: env)
            sample.providers = readings
            // Re-check after the awaits: the watch may have ended or been replaced meanwhile.
            guard let current = try? store.environment(name).watch, current.deploymentId == w.deploymentId else { continue }
            var judge = judges[name] ?? WatchJudge(analysis: env.analysis)
            let verdict = judge.observe(sample, at: now)
            judges[name] = judge
            let line = Self.line(pool, ready: sample.ready, instances: sample.instances)
            logger.write("save the environment's watch", to: store) { () throws(SlipwayError) in
                try store.environments.noteWatch(line, deployment: w.deploymentId, environment: name)
            }
            guard let reason = verdict else { continue }
            endWatch(name, w, why: "the watch rolls back to \(w.previous): \(reason)")
            logger.write("remember \(w.release) as bad", to: store) { () throws(SlipwayError) in
                try store.environments.markBad(w.release, why: "the watch: \(reason)", environment: name)
            }
            var request = DeployRequest(version: w.previous, environment: name, strategy: nil, kind: .rollback, actor: "watch")
            request.reason = reason
            do {
                let rollback = try await rollBack(request, w.deploymentId)
                logger.warning("the watch rolled back", metadata: ["deploy.id": "\(rollback.id)", "watch.reason": "\(reason)"])
            } catch {
                logger.error("the watch could not roll back", metadata: ["watch.env": "\(name)", "error": "\(error)"])
            }
        }
    }

    /// Ends the watch, the reason noted on the watched deployment first: whoever sees the watch gone (`deploy --watch`)
    /// can read there whether a rollback is coming before it exists.
    private func endWatch(_ name: String, _ w: WatchInfo, why: String) {
        if let d = try? store.deployment(w.deploymentId) { note(d, why, log: DeployLog(path: d.logFile)) }
        let ended = logger.write("end the watch", to: store) { () throws(SlipwayError) in try store.environments.endWatch(deployment: w.deploymentId, environment: name) }
        if ended == false { return }  // it had ended or another replaced it
        judges[name] = nil
        lastLook[name] = nil
    }

    private func note(_ d: DeploymentInfo, _ detail: String, log: DeployLog) {
        context.note(d, detail, by: holder, log: log)
    }

    /// `1234 requests, 0.10% errors; last 10s: 210 requests, p99 12 ms; 2 of 2 ready`.
    nonisolated static func line(_ pool: PoolStatsSnapshot?, ready: Int, instances: Int) -> String {
        guard let pool else { return "no traffic yet; \(ready) of \(instances) ready" }
        let total = "\(pool.requests) requests, \(CanaryJudge.percent(pool.requests > 0 ? Double(pool.responses5xx) / Double(pool.requests) : nil)) errors"
        let window = pool.windows["10s"].map { "; last 10s: \($0.requests) requests, p99 \(String(format: "%.0f", $0.p99Ms)) ms" } ?? ""
        return total + window + "; \(ready) of \(instances) ready"
    }
}
