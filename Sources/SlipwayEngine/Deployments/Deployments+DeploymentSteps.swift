import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// The deployments as the strategies' `DeploymentSteps`: the steps over the real store, supervisor and router.
/// The rest of them (`step`, `startAndVerify`, `switchTo`, `restorePrevious`, …) are in the files of their concern.
extension Deployments: DeploymentSteps {
    var isStopping: Bool { queue.isStopping }

    /// What a strategy starts from: the release serving `env` now, and how many instances the new one
    /// needs (`slipway scale`'s count, else the configuration's).
    func startingPoint(_ env: EnvironmentConfig) throws(SlipwayError) -> (previous: String?, count: Int) {
        let record = try store.environment(env.name)
        return (record.currentRelease, record.instances ?? env.process.instances)
    }

    func instances(of env: EnvironmentConfig) throws(SlipwayError) -> [InstanceRecord] {
        try store.instances(environment: env.name)
    }

    func start(_ job: DeploymentJob, release: String, slot: Int) async throws(SlipwayError) -> InstanceRecord {
        try await supervisor.start(app: job.config.app, env: job.env, release: release, slot: slot)
    }

    func stop(_ instances: [InstanceRecord], timeout: Duration) async {
        await supervisor.stopAll(instances, timeout: timeout)
    }

    func preTrafficHook(_ d: DeploymentInfo, _ job: DeploymentJob, targets: [InstanceRecord], log: DeployLog) async throws(SlipwayError) -> String? {
        try await dataSteps.preTrafficHook(d, job, targets: targets, log: log, on: self)
    }

    func postSwitchHook(_ d: DeploymentInfo, _ job: DeploymentJob, log: DeployLog) async throws(SlipwayError) -> String? {
        try await dataSteps.postSwitchHook(d, job, log: log, on: self)
    }

    func markLeaving(_ instances: [InstanceRecord]) throws(SlipwayError) { try instanceSteps.markLeaving(instances) }

    func setWeights(_ weights: [String: Int], environment: String) async throws(SlipwayError) {
        try store.environments.setRollout(weights, environment: environment)
        try await pushTable()
    }

    func poolCounts(environment: String) async -> [String: RequestCounts]? {
        guard let pools = (try? await router.stats())?[environment] else { return nil }
        return pools.mapValues { CanaryObserver.counts($0) }
    }

    func canary(of environment: String) throws(SlipwayError) -> (info: CanaryInfo?, evidence: CanaryJudge.Evidence?) {
        let record = try store.environment(environment)
        return (record.canary, record.canaryEvidence)
    }

    func startCanary(_ d: inout DeploymentInfo, _ c: CanaryInfo, detail: String, event: String, log: DeployLog) async throws(SlipwayError) {
        let environment = d.environment
        try record(&d, .canary, detail, log: log) { () throws(SlipwayError) in
            try store.environments.startCanary(c, environment: environment, actor: holder, detail: detail,
                                  event: .init(change: .started, release: c.release, stable: c.stable, step: c.step + 1, weight: c.weight, detail: event))
        }
        try await pushTable()
        note(d, "canary \(EventPayload.Canary.Change.started.rawValue): \(event)", log: log)
    }

    func takeCanaryCommand(environment: String, deploymentId: Int64) throws(SlipwayError) -> CanaryCommand? {
        try store.environments.takeCanaryCommand(environment: environment, deploymentId: deploymentId)
    }

    func saveCanary(_ c: CanaryInfo?, environment: String, evidence: CanaryJudge.Evidence?) throws(SlipwayError) {
        try store.environments.saveCanary(c, environment: environment, evidence: evidence)
    }

    func advanceCanary(_ c: CanaryInfo, environment: String) async throws(SlipwayError) {
        try store.environments.advanceCanary(c, environment: environment)
        try await pushTable()
    }

    func endCanary(environment: String, bad: (release: String, why: String)?) async throws(SlipwayError) {
        try store.environments.endCanary(environment: environment, bad: bad)
        try await pushTable()
    }
}
