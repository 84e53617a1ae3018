import Foundation
import SlipwayCore
import SlipwayStore

/// What a deploy strategy may do, and all it may do: record its progress, start, gate and stop instances,
/// run the hooks, move traffic (weights, a canary's steps, the switch), hold on for requests in flight, and
/// put the previous release back. `Deployments` is the real implementation (`Deployments+DeploymentSteps.swift`);
/// the strategies' unit tests run them over a fake one, without processes or sockets.
///
/// Strategies run isolated to their implementation (`isolated S`), so a step and the read after it see the
/// same state; every `await` inside one is a point where another task may have changed it.
protocol DeploymentSteps: Actor {
    // MARK: Progress

    /// True once the daemon is shutting down: a strategy stops at the next step boundary.
    var isStopping: Bool { get }
    /// Persists a transition (with its event) before acting on it; throws `daemonStopping` at shutdown.
    @discardableResult
    func step(_ d: inout DeploymentInfo, _ state: DeploymentState, _ detail: String, message: String?, reason: DeploymentInfo.EndReason?,
              log: DeployLog) throws(SlipwayError) -> DeploymentInfo
    /// A progress line in the deployment's events and log.
    func note(_ d: DeploymentInfo, _ detail: String, log: DeployLog)

    // MARK: Instances

    /// The release serving `env` now, and how many instances a release needs there.
    func startingPoint(_ env: EnvironmentConfig) throws(SlipwayError) -> (previous: String?, count: Int)
    /// The environment's instances as recorded.
    func instances(of env: EnvironmentConfig) throws(SlipwayError) -> [InstanceRecord]
    /// Starts (or reuses warm) `count` instances of `d.version` and gates them; nil `failure` when all are ready.
    func startAndVerify(_ d: inout DeploymentInfo, _ job: DeploymentJob, count: Int, log: DeployLog) async throws(SlipwayError)
        -> (ready: [InstanceRecord], failure: String?)
    /// Starts one instance of `release` in `slot`.
    func start(_ job: DeploymentJob, release: String, slot: Int) async throws(SlipwayError) -> InstanceRecord
    /// Probes `instances` until all are ready or the deadline passes.
    func gate(_ instances: [InstanceRecord], settings: HealthSettings) async -> GateOutcome
    /// Stops `instances` (signal, then kill after `timeout`).
    func stop(_ instances: [InstanceRecord], timeout: Duration) async
    /// Records `instances` as leaving: the router's next table has none of them.
    func markLeaving(_ instances: [InstanceRecord]) throws(SlipwayError)
    /// Records `instances` as running and ready, so the next table includes them.
    func markServing(_ instances: [InstanceRecord], env: EnvironmentConfig) async throws(SlipwayError)

    // MARK: Hooks

    func preTrafficHook(_ d: DeploymentInfo, _ job: DeploymentJob, targets: [InstanceRecord], log: DeployLog) async throws(SlipwayError) -> String?
    func postSwitchHook(_ d: DeploymentInfo, _ job: DeploymentJob, log: DeployLog) async throws(SlipwayError) -> String?

    // MARK: Traffic

    /// Each release's pool weight (persisted, then pushed to the router).
    func setWeights(_ weights: [String: Int], environment: String) async throws(SlipwayError)
    /// Pushes the route table as the records say now; a failure is logged (the next periodic push retries).
    func pushTableLogged() async
    /// Marks `targets` as the serving release, records current and previous, pushes the table.
    func switchTo(_ d: inout DeploymentInfo, env: EnvironmentConfig, targets: [InstanceRecord], previous: String?, log: DeployLog)
        async throws(SlipwayError)
    /// Waits until no request is in flight on `pool`, or `timeout`; returns how many still are.
    func waitForDrain(environment: String, pool: String, timeout: Duration) async -> Int
    /// The router's request counters per pool of `environment` (nil: the router did not answer).
    func poolCounts(environment: String) async -> [String: RequestCounts]?

    /// Holds the environment's new requests at the router while data is put back (released by the switch).
    func holdTraffic(_ env: EnvironmentConfig, for d: DeploymentInfo) async throws(SlipwayError)
    /// Lifts `holdTraffic`'s hold when the deployment gives up.
    func releaseTraffic(_ env: EnvironmentConfig, for d: DeploymentInfo) async

    // MARK: Canary

    /// The canary recorded on `environment`, and the evidence its judge saved.
    func canary(of environment: String) throws(SlipwayError) -> (info: CanaryInfo?, evidence: CanaryJudge.Evidence?)
    /// Transition to `canary`, the canary's record and weights, and its `started` event, in one transaction; then the push.
    func startCanary(_ d: inout DeploymentInfo, _ c: CanaryInfo, detail: String, event: String, log: DeployLog) async throws(SlipwayError)
    /// The pending command of deployment `deploymentId`'s canary, consumed (read and cleared in one write).
    func takeCanaryCommand(environment: String, deploymentId: Int64) throws(SlipwayError) -> CanaryCommand?
    /// The canary's record as of now (nil: none), with the judge's evidence when given; a command stored meanwhile is kept.
    func saveCanary(_ c: CanaryInfo?, environment: String, evidence: CanaryJudge.Evidence?) throws(SlipwayError)
    /// The next step's record and weights (persisted, then pushed).
    func advanceCanary(_ c: CanaryInfo, environment: String) async throws(SlipwayError)
    /// No canary, all traffic on the stable release (persisted, then pushed); `bad` remembers the release as bad.
    func endCanary(environment: String, bad: (release: String, why: String)?) async throws(SlipwayError)
    /// What both releases did since the canary started.
    func observeCanary(_ env: EnvironmentConfig, _ c: CanaryInfo) async -> CanaryObservation
    /// Sleeps one analysis interval (a `canary promote|abort` cuts it short).
    func canaryPause(_ environment: String, _ interval: Duration) async
    func canaryEvent(_ d: DeploymentInfo, _ c: CanaryInfo, _ change: EventPayload.Canary.Change, _ detail: String, analysis: CanaryAnalysis?,
                     log: DeployLog, note: Bool)

    // MARK: Ending

    /// Puts `d.previousVersion` back in service and ends the deployment as rolled back.
    func restorePrevious(_ d: inout DeploymentInfo, env: EnvironmentConfig, log: DeployLog, reason: String) async
    /// Puts the data back from `safety` after a `rollback --with-data` that did not finish, and lifts its hold.
    func undoDataRollback(_ d: DeploymentInfo, env: EnvironmentConfig, safety: BackupInfo, log: DeployLog) async
    /// After a switch: the `warm` release's instances stay warm; everything not kept stops.
    func retire(env: EnvironmentConfig, keeping: Set<Int64>, warm: String?, log: DeployLog, d: DeploymentInfo) async
    /// Once `d.version` serves: the unrouted process types move to it (the old ones stopped with their signal).
    func moveProcessTypes(_ d: DeploymentInfo, env: EnvironmentConfig, log: DeployLog) async
    /// Removes release directories beyond `keep_releases`.
    func pruneReleases(_ cfg: SlipwayConfig)
}

extension DeploymentSteps {
    @discardableResult
    func step(_ d: inout DeploymentInfo, _ state: DeploymentState, _ detail: String, message: String? = nil, log: DeployLog)
        throws(SlipwayError) -> DeploymentInfo {
        try step(&d, state, detail, message: message, reason: nil, log: log)
    }

    func canaryEvent(_ d: DeploymentInfo, _ c: CanaryInfo, _ change: EventPayload.Canary.Change, _ detail: String, analysis: CanaryAnalysis? = nil,
                     log: DeployLog) {
        canaryEvent(d, c, change, detail, analysis: analysis, log: log, note: true)
    }

    func restorePrevious(_ d: inout DeploymentInfo, _ job: DeploymentJob, log: DeployLog, reason: String) async {
        await restorePrevious(&d, env: job.env, log: log, reason: reason)
    }
}
