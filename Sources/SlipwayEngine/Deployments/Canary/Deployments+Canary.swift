import Foundation
import SlipwayCore
import SlipwayStore

/// The canary's events and its interval's sleep (a promote or an abort cuts it short).
extension Deployments {
    /// What the canary and the stable release did since the canary started (`CanaryObserver`).
    func observeCanary(_ env: EnvironmentConfig, _ c: CanaryInfo) async -> CanaryObservation {
        await CanaryObserver(context: context).observe(env, c)
    }

    func canaryEvent(_ d: DeploymentInfo, _ c: CanaryInfo, _ change: EventPayload.Canary.Change, _ detail: String, analysis: CanaryAnalysis?,
                     log: DeployLog, note noteIt: Bool) {
        store.record(Event(environment: d.environment, deploymentId: d.id,
                           payload: .canary(.init(change: change, release: c.release, stable: c.stable, step: c.step + 1, weight: c.weight,
                                                  detail: detail, analysis: analysis))), orLog: logger)
        if noteIt { note(d, "canary \(change.rawValue): \(detail)", log: log) }
    }

    /// Sleeps one interval; a promote or an abort (`CanaryControl`) ends it early.
    func canaryPause(_ environment: String, _ interval: Duration) async { await canaries.alarms.pause(environment, interval) }
}
