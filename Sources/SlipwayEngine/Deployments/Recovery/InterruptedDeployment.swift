import Foundation
import SlipwayCore
import SlipwayStore

/// A deployment a daemon restart interrupted, with what the restarted daemon found, and how it ends:
/// finished, rolled back or resumed, never half-switched (`DeploymentRecovery.action` decides). It runs
/// over `DeploymentSteps`, so its unit tests drive it with a fake and no processes.
struct InterruptedDeployment: Sendable {
    /// How the deployment was recorded when the daemon stopped.
    var deployment: DeploymentInfo
    /// Its environment as configured now (nil: no longer in `slipway.yml`, named by `file`).
    var env: EnvironmentConfig?
    var file: String
    /// The router's persisted table points at the new release.
    var routerServesNew: Bool
    /// The new release's instances (not leaving), and whether every one answered its readiness probe.
    var newInstances: [InstanceRecord]
    var newInstancesReady: Bool
    /// The safety backup of a `rollback --with-data` interrupted while restoring: its data is put back.
    var safety: BackupInfo?

    enum Ending: Equatable, Sendable {
        /// Finished, rolled back or failed: the deployment is over.
        case ended
        /// A canary whose instances are alive and ready: it continues at its step under a new lease.
        case resume
    }

    func end<S: DeploymentSteps>(on steps: isolated S) async throws(SlipwayError) -> Ending {
        var d = deployment
        let was = deployment.state.rawValue
        let log = DeployLog(path: d.logFile)
        guard let env else {
            try steps.step(&d, d.state.allowedNext.contains(.failed) ? .failed : .rollingBack,
                           "environment \(d.environment) is no longer in \(file)", log: log)
            return .ended
        }
        let action = DeploymentRecovery.action(for: d.state, routerServesNew: routerServesNew, newInstancesReady: newInstancesReady)
        steps.note(d, "daemon restarted; deployment \(d.id) was interrupted in state \(was) "
                   + "(router serves \(d.version): \(routerServesNew), new instances ready: \(newInstancesReady))", log: log)
        switch action {
        case .resume:
            return .resume
        case .finish:
            if d.state == .switching {
                try await steps.switchTo(&d, env: env, targets: newInstances, previous: d.previousVersion, log: log)
                try steps.step(&d, .draining, "switch completed after the restart", log: log)
            }
            await steps.retire(env: env, keeping: Set(newInstances.compactMap(\.id)), warm: d.previousVersion == d.version ? nil : d.previousVersion,
                               log: log, d: d)
            await steps.moveProcessTypes(d, env: env, log: log)
            try steps.step(&d, .succeeded, "\(d.version) is serving \(env.name) (finished after a daemon restart)", log: log)
        case .rollBack:
            if d.state == .pending {
                try steps.step(&d, .failed, "interrupted by a daemon restart before it started; nothing changed", message: nil, reason: .interrupted, log: log)
            } else if !d.state.allowedNext.contains(.rollingBack) {
                // Backing up, migrating or restoring data: no instance of the new release started, no traffic moved.
                if d.state == .restoringData, let safety { await steps.undoDataRollback(d, env: env, safety: safety, log: log) }
                try steps.step(&d, .failed, "interrupted by a daemon restart in state \(was), before any traffic moved; "
                               + "\(d.previousVersion.map { "\($0) kept serving" } ?? "nothing was serving")", message: nil, reason: .interrupted, log: log)
            } else {
                if d.state != .rollingBack {
                    try steps.step(&d, .rollingBack, "interrupted by a daemon restart in state \(was); rolling back to \(d.previousVersion ?? "nothing")",
                                   message: nil, reason: .interrupted, log: log)
                }
                await steps.restorePrevious(&d, env: env, log: log, reason: "interrupted by a daemon restart in state \(was)")
            }
            await steps.releaseTraffic(env, for: d)
        }
        return .ended
    }
}
