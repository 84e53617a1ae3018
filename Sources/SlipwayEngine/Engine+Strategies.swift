import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Engine {
    /// Blue-green: start the new release beside the old, gate on health, switch atomically, drain,
    /// keep the old release warm. A release not ready by the deadline is refused; the old one never stopped serving.
    func blueGreen(_ d: inout DeploymentInfo, env: EnvironmentConfig, log: DeployLog) async throws(SlipwayError) {
        let began = ContinuousClock.now
        let record = try store.environment(env.name)
        let previous = record.currentRelease
        let count = record.instances ?? env.process.instances
        let (targets, failure) = try await startAndVerify(&d, env: env, count: count, log: log)
        if let failure {
            let first = failure.split(separator: "\n").first.map(String.init) ?? failure
            try step(&d, .failed, "refused: \(first); \(previous.map { "\($0) kept serving" } ?? "nothing was serving")", message: failure, log: log)
            return
        }
        try step(&d, .switching, "switching \(env.name) from \(previous ?? "nothing") to \(d.version)", log: log)
        do {
            try await switchTo(&d, env: env, targets: targets, previous: previous, log: log)
        } catch {
            try step(&d, .rollingBack, "the switch failed: \(error.message)", log: log)
            await restorePrevious(&d, env: env, log: log, reason: error.message)
            return
        }
        try step(&d, .draining, "draining requests in flight on \(previous ?? "nothing") (up to \(DurationParsing.format(env.router.drainTimeout)))", log: log)
        if let previous, previous != d.version {
            let left = await waitForDrain(environment: env.name, pool: previous, timeout: env.router.drainTimeout)
            if left > 0 { note(d, "drain timeout: \(left) request(s) still in flight on \(previous)", log: log) }
        }
        await retire(env: env, keeping: Set(targets.compactMap(\.id)), warm: previous == d.version ? nil : previous, log: log, d: d)
        let took = ContinuousClock.now - began
        try step(&d, .succeeded, "\(d.version) is serving \(env.name) (took \(String(format: "%.2f", took.seconds))s)", log: log)
        pruneReleases()
    }

    /// Recreate: stop the old release, start the new one. Requests get 503 + Retry-After in between.
    /// A new release that is not ready is stopped and the old one is started again.
    func recreate(_ d: inout DeploymentInfo, env: EnvironmentConfig, log: DeployLog) async throws(SlipwayError) {
        let began = ContinuousClock.now
        let record = try store.environment(env.name)
        let previous = record.currentRelease
        let count = record.instances ?? env.process.instances
        let old = try store.instances(environment: env.name)
        try step(&d, .stoppingOld, "stopping \(old.count) instance(s) of \(previous ?? "nothing")", log: log)
        for var i in old {
            i.state = .stopping
            i.ready = false
            try store.save(i)
        }
        try? await pushTable()
        await supervisor.stopAll(old, timeout: env.process.stopTimeout)
        let (targets, failure) = try await startAndVerify(&d, env: env, count: count, log: log)
        if let failure {
            let first = failure.split(separator: "\n").first.map(String.init) ?? failure
            try step(&d, .rollingBack, "refused: \(first); restarting \(previous ?? "nothing")", log: log)
            await restorePrevious(&d, env: env, log: log, reason: failure)
            return
        }
        try step(&d, .switching, "switching \(env.name) to \(d.version)", log: log)
        try await switchTo(&d, env: env, targets: targets, previous: previous, log: log)
        try step(&d, .draining, "nothing to drain (recreate)", log: log)
        let took = ContinuousClock.now - began
        try step(&d, .succeeded, "\(d.version) is serving \(env.name) (took \(String(format: "%.2f", took.seconds))s)", log: log)
        pruneReleases()
    }

    /// Puts `d.previousVersion` back in service (its live instances, or fresh ones), stops the new
    /// release's instances, and ends the deployment as rolled back.
    func restorePrevious(_ d: inout DeploymentInfo, env: EnvironmentConfig, log: DeployLog, reason: String) async {
        do {
            var record = try store.environment(env.name)
            let count = record.instances ?? env.process.instances
            var targets: [InstanceRecord] = []
            if let prev = d.previousVersion {
                targets = try store.instances(environment: env.name).filter {
                    $0.release == prev && ($0.state == .running || $0.state == .standby)
                        && ProcessInspector.isAlive(pid: $0.pid, startTime: UInt64($0.procStartTime))
                }
                var slot = 0
                while targets.count < count {
                    while targets.contains(where: { $0.slot == slot }) { slot += 1 }
                    targets.append(try await supervisor.start(app: config.app, env: env, release: prev, slot: slot))
                    note(d, "started \(env.name)-\(prev)-\(slot) again", log: log)
                }
                _ = await gate(targets, settings: env.health)  // best effort: the previous release is all there is
                try await markServing(targets, env: env)
            }
            record.currentRelease = d.previousVersion
            if record.previousRelease == record.currentRelease { record.previousRelease = nil }
            try store.save(record)
            try await pushTable()
            await retire(env: env, keeping: Set(targets.compactMap(\.id)), warm: nil, log: log, d: d)
            let first = reason.split(separator: "\n").first.map(String.init) ?? reason
            try step(&d, .rolledBack, "rolled back: \(d.previousVersion ?? "nothing") is serving \(env.name) again (\(first))", message: reason, log: log)
        } catch {
            _ = try? step(&d, .failed, "rollback failed: \(error); check 'slipway status'", message: "\(reason)\nrollback failed: \(error)", log: log)
        }
    }

    /// After a switch: the previous release's instances stay warm (standby) for `keep_warm`; everything else not kept is stopped.
    func retire(env: EnvironmentConfig, keeping: Set<Int64>, warm: String?, log: DeployLog, d: DeploymentInfo) async {
        guard let all = try? store.instances(environment: env.name) else { return }
        var stop: [InstanceRecord] = []
        for var i in all where !keeping.contains(i.id ?? -1) {
            if let warm, i.release == warm, env.keepWarm > .zero, i.state == .running || i.state == .standby {
                i.state = .standby
                i.ready = false
                _ = try? store.save(i)
            } else {
                stop.append(i)
            }
        }
        if !stop.isEmpty {
            note(d, "stopping \(stop.count) instance(s): \(stop.map { "\($0.release)-\($0.slot)" }.joined(separator: ", "))", log: log)
            await supervisor.stopAll(stop, timeout: env.process.stopTimeout)
        }
    }

    /// Removes release directories beyond keep_releases; never the current or previous release of any environment.
    func pruneReleases() {
        var protected = Set<String>()
        for name in config.environmentNames {
            if let r = try? store.environment(name) {
                if let c = r.currentRelease { protected.insert(c) }
                if let p = r.previousRelease { protected.insert(p) }
            }
        }
        for i in (try? store.instances()) ?? [] { protected.insert(i.release) }
        let removed = releases.prune(keep: config.keepReleases, protected: protected)
        if !removed.isEmpty { logger.info("pruned releases", metadata: ["release.removed": "\(removed.joined(separator: ","))"]) }
    }
}
