import Foundation
import Logging
import SlipwayCore
@testable import SlipwayEngine
import SlipwayStore

/// `DeploymentSteps` without processes, sockets or a database: instances are records in memory, a gate
/// answers what the test scripted, and every step a strategy takes is written down in `actions`, so a
/// test reads what the strategy did in order. Transitions go through the real state machine.
actor FakeDeploymentSteps: DeploymentSteps {
    var isStopping = false
    var current: String?
    var previous: String?
    var wanted: Int
    var instances: [InstanceRecord] = []
    var weights: [String: Int]?
    var canary: CanaryInfo?
    var evidence: CanaryJudge.Evidence?
    var bad: [String: String] = [:]
    /// What happened, in order: `start v2-0`, `gate 1 → ready`, `weights v1=1 v2=1`, `switch v2`, `restore v1`, …
    var actions: [String] = []
    var states: [DeploymentState] = []
    /// Each transition's detail, in order.
    var details: [String] = []

    // Scripts
    /// Each gate's outcome in turn (`ready` once they run out).
    var gates: [GateOutcome] = []
    /// Releases whose instances never become ready (`startAndVerify` fails for them).
    var neverReady: Set<String> = []
    /// Called at each canary interval (1-based): a test gives a command or an observation there.
    var onPause: @Sendable (Int, inout CanaryInfo?) -> CanaryObservation? = { _, _ in nil }
    var observation = CanaryObservation(canary: RequestCounts(), stable: RequestCounts())
    private(set) var pauses = 0
    /// After this action the daemon is stopping (`isStopping`).
    var stopAfter: String?
    private var nextId: Int64 = 1

    init(serving release: String?, instances count: Int) {
        current = release
        wanted = count
        if let release { for slot in 0..<count { instances.append(Self.record(release, slot: slot, id: nextId)); nextId += 1 } }
    }

    func script(gates: [GateOutcome] = [], neverReady: Set<String> = [],
                onPause: @escaping @Sendable (Int, inout CanaryInfo?) -> CanaryObservation? = { _, _ in nil }) {
        self.gates = gates
        self.neverReady = neverReady
        self.onPause = onPause
    }

    static func record(_ release: String, slot: Int, id: Int64) -> InstanceRecord {
        var i = InstanceRecord(environment: "production", release: release, slot: slot, port: 9000 + Int(id), pid: Int32(1000 + id), procStartTime: 0,
                               state: .running, ready: true, logFile: "/dev/null")
        i.id = id
        return i
    }

    private func did(_ action: String) {
        actions.append(action)
        if action == stopAfter { isStopping = true }
    }

    func stop(after action: String) { stopAfter = action }

    func clearActions() { actions = [] }

    private func serving(_ release: String) -> [InstanceRecord] { instances.filter { $0.release == release && $0.state == .running } }

    // MARK: DeploymentSteps

    @discardableResult
    func step(_ d: inout DeploymentInfo, _ state: DeploymentState, _ detail: String, message: String?, reason: DeploymentInfo.EndReason?,
              log: DeployLog) throws(SlipwayError) -> DeploymentInfo {
        if isStopping && !state.isTerminal { throw SlipwayError.daemonStopping }
        d.state = try d.state.transition(to: state)
        if let reason { d.endReason = reason }
        if state.isTerminal { d.message = message ?? detail }
        states.append(state)
        details.append(detail)
        return d
    }

    func note(_ d: DeploymentInfo, _ detail: String, log: DeployLog) {}

    func startingPoint(_ env: EnvironmentConfig) throws(SlipwayError) -> (previous: String?, count: Int) { (current, wanted) }

    func instances(of env: EnvironmentConfig) throws(SlipwayError) -> [InstanceRecord] { instances }

    func startAndVerify(_ d: inout DeploymentInfo, _ job: DeploymentJob, count: Int, log: DeployLog) async throws(SlipwayError)
        -> (ready: [InstanceRecord], failure: String?) {
        try step(&d, .starting, "starting", message: nil, reason: nil, log: log)
        var started: [InstanceRecord] = []
        for _ in 0..<count { started.append(try await start(job, release: d.version, slot: Strategies.freeSlot(started))) }
        try step(&d, .verifying, "verifying", message: nil, reason: nil, log: log)
        guard !neverReady.contains(d.version) else {
            did("gate \(count) → expired")
            await stop(started, timeout: .seconds(1))
            return ([], "release \(d.version) was not ready")
        }
        did("gate \(count) → ready")
        return (started, nil)
    }

    func start(_ job: DeploymentJob, release: String, slot: Int) async throws(SlipwayError) -> InstanceRecord {
        spawn(release, slot: slot)
    }

    private func spawn(_ release: String, slot: Int) -> InstanceRecord {
        var i = Self.record(release, slot: slot, id: nextId)
        nextId += 1
        i.state = .starting
        i.ready = false
        instances.append(i)
        did("start \(release)-\(slot)")
        return i
    }

    func gate(_ instances: [InstanceRecord], settings: HealthSettings) async -> GateOutcome {
        let outcome = gates.isEmpty ? .ready : gates.removeFirst()
        did("gate \(instances.count) → \(outcome == .ready ? "ready" : "expired")")
        return outcome
    }

    func stop(_ gone: [InstanceRecord], timeout: Duration) async {
        guard !gone.isEmpty else { return }
        let ids = Set(gone.compactMap(\.id))
        instances.removeAll { ids.contains($0.id ?? -1) }
        did("stop " + gone.map { "\($0.release)-\($0.slot)" }.joined(separator: " "))
    }

    func markLeaving(_ leaving: [InstanceRecord]) throws(SlipwayError) {
        let ids = Set(leaving.compactMap(\.id))
        for k in instances.indices where ids.contains(instances[k].id ?? -1) {
            instances[k].state = .stopping
            instances[k].ready = false
        }
    }

    func markServing(_ serving: [InstanceRecord], env: EnvironmentConfig) async throws(SlipwayError) {
        let ids = Set(serving.compactMap(\.id))
        for k in instances.indices where ids.contains(instances[k].id ?? -1) {
            instances[k].state = .running
            instances[k].ready = true
        }
    }

    func preTrafficHook(_ d: DeploymentInfo, _ job: DeploymentJob, targets: [InstanceRecord], log: DeployLog) async throws(SlipwayError) -> String? { nil }
    func postSwitchHook(_ d: DeploymentInfo, _ job: DeploymentJob, log: DeployLog) async throws(SlipwayError) -> String? { nil }

    func setWeights(_ weights: [String: Int], environment: String) async throws(SlipwayError) {
        self.weights = weights
        did("weights " + weights.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }

    func pushTableLogged() async { did("push") }

    func holdTraffic(_ env: EnvironmentConfig, for d: DeploymentInfo) async throws(SlipwayError) { did("hold") }

    func releaseTraffic(_ env: EnvironmentConfig, for d: DeploymentInfo) async { did("release") }

    func switchTo(_ d: inout DeploymentInfo, env: EnvironmentConfig, targets: [InstanceRecord], previous: String?, log: DeployLog)
        async throws(SlipwayError) {
        try await markServing(targets, env: env)
        if previous != d.version { self.previous = previous }
        current = d.version
        weights = nil
        canary = nil
        did("switch \(d.version)")
    }

    func waitForDrain(environment: String, pool: String, timeout: Duration) async -> Int { 0 }
    func poolCounts(environment: String) async -> [String: RequestCounts]? { [:] }

    func canary(of environment: String) throws(SlipwayError) -> (info: CanaryInfo?, evidence: CanaryJudge.Evidence?) { (canary, evidence) }

    func startCanary(_ d: inout DeploymentInfo, _ c: CanaryInfo, detail: String, event: String, log: DeployLog) async throws(SlipwayError) {
        try step(&d, .canary, detail, message: nil, reason: nil, log: log)
        canary = c
        weights = [c.stable: 100 - c.weight, c.release: c.weight]
        did("canary \(c.release) \(c.weight)%")
    }

    func takeCanaryCommand(environment: String, deploymentId: Int64) throws(SlipwayError) -> CanaryCommand? {
        guard let command = canary?.command, canary?.deploymentId == deploymentId else { return nil }
        canary?.command = nil
        return command
    }

    func saveCanary(_ c: CanaryInfo?, environment: String, evidence: CanaryJudge.Evidence?) throws(SlipwayError) {
        canary = EnvironmentRecords.keepingCommand(c, of: canary)
        if let evidence { self.evidence = evidence }
    }

    func advanceCanary(_ c: CanaryInfo, environment: String) async throws(SlipwayError) {
        canary = EnvironmentRecords.keepingCommand(c, of: canary)
        weights = [c.stable: 100 - c.weight, c.release: c.weight]
        did("canary \(c.release) \(c.weight)%")
    }

    func endCanary(environment: String, bad: (release: String, why: String)?) async throws(SlipwayError) {
        canary = nil
        weights = nil
        if let bad { self.bad[bad.release] = bad.why }
        did("canary ended")
    }

    func observeCanary(_ env: EnvironmentConfig, _ c: CanaryInfo) async -> CanaryObservation { observation }

    func canaryPause(_ environment: String, _ interval: Duration) async {
        pauses += 1
        if let o = onPause(pauses, &canary) { observation = o }
    }

    func canaryEvent(_ d: DeploymentInfo, _ c: CanaryInfo, _ change: EventPayload.Canary.Change, _ detail: String, analysis: CanaryAnalysis?,
                     log: DeployLog, note: Bool) {}

    func restorePrevious(_ d: inout DeploymentInfo, env: EnvironmentConfig, log: DeployLog, reason: String) async {
        let release = d.previousVersion
        if let release {
            while serving(release).count < wanted {
                let i = spawn(release, slot: Strategies.freeSlot(serving(release)))
                try? await markServing([i], env: env)
            }
        }
        current = release
        weights = nil
        canary = nil
        await stop(instances.filter { $0.release != release }, timeout: .seconds(1))
        did("restore \(release ?? "nothing")")
        _ = try? step(&d, .rolledBack, "rolled back", message: reason, reason: d.endReason ?? .reverted, log: log)
    }

    func retire(env: EnvironmentConfig, keeping: Set<Int64>, warm: String?, log: DeployLog, d: DeploymentInfo) async {
        await stop(instances.filter { !keeping.contains($0.id ?? -1) && $0.release != warm }, timeout: .seconds(1))
    }

    func pruneReleases(_ cfg: SlipwayConfig) { did("prune") }

    func moveProcessTypes(_ d: DeploymentInfo, env: EnvironmentConfig, log: DeployLog) async { did("move types to \(d.version)") }

    func undoDataRollback(_ d: DeploymentInfo, env: EnvironmentConfig, safety: BackupInfo, log: DeployLog) async {
        did("data back from \(safety.id)")
        await releaseTraffic(env, for: d)
    }
}
