import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Deployments {
    /// Puts `d.previousVersion` back in service (its live instances, or fresh ones), stops the new
    /// release's instances, and ends the deployment as rolled back.
    func restorePrevious(_ d: inout DeploymentInfo, env: EnvironmentConfig, log: DeployLog, reason: String) async {
        do {
            let count = try startingPoint(env).count
            var targets: [InstanceRecord] = []
            if let prev = d.previousVersion {
                targets = try store.instances(environment: env.name).filter {
                    $0.release == prev && ($0.state == .running || $0.state == .standby)
                        && ProcessInspector.isAlive(pid: $0.pid, startTime: UInt64($0.procStartTime))
                }
                while targets.count < count {
                    let slot = Strategies.freeSlot(targets)
                    targets.append(try await supervisor.start(app: config.app, env: env, release: prev, slot: slot))
                    note(d, "started \(env.name)-\(prev)-\(slot) again", log: log)
                }
                _ = await gate(targets, settings: env.health)  // best effort: the previous release is all there is
                try await markServing(targets, env: env)
            }
            try store.environments.revertRelease(environment: env.name, to: d.previousVersion)
            try await pushTable()
            await retire(env: env, keeping: Set(targets.compactMap(\.id)), warm: nil, log: log, d: d)
            let first = Strategies.firstLine(reason)
            try step(&d, .rolledBack, "rolled back: \(d.previousVersion ?? "nothing") is serving \(env.name) again (\(first))", message: reason,
                     reason: d.endReason ?? .reverted, log: log)
        } catch {
            logger.write("record that a rollback failed", to: store) { () throws(SlipwayError) in
                try step(&d, .failed, "rollback failed: \(error); check 'slipway status'", message: "\(reason)\nrollback failed: \(error)", log: log)
            }
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
                logger.write("keep an instance warm", to: store) { () throws(SlipwayError) in try store.save(i) }
            } else {
                stop.append(i)
            }
        }
        if !stop.isEmpty {
            note(d, "stopping \(stop.count) instance(s): \(stop.map { "\($0.release)-\($0.slot)" }.joined(separator: ", "))", log: log)
            await supervisor.stopAll(stop, timeout: env.process.stopTimeout)
        }
    }

    func pruneReleases(_ cfg: SlipwayConfig) { instanceSteps.pruneReleases(cfg) }

    func moveProcessTypes(_ d: DeploymentInfo, env: EnvironmentConfig, log: DeployLog) async {
        guard !env.processTypes.isEmpty else { return }
        let (context, holder) = (context, holder)
        let moved = await processTypes.converge(env, app: config.app, to: d.version) { line in context.note(d, line, by: holder, log: log) }
        if !moved { note(d, "a process type of \(d.version) did not start; the supervision tries again (slipway status shows it)", log: log) }
    }
}

extension Deployments {
    func undoDataRollback(_ d: DeploymentInfo, env: EnvironmentConfig, safety: BackupInfo, log: DeployLog) async {
        await dataSteps.undoRollback(d, env: env, safety: safety, log: log, on: self)
    }
}
