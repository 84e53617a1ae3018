import Foundation
import SlipwayCore
import SlipwayStore

/// `slipway canary promote|abort|status`. A command is persisted on the canary and acted on by its loop
/// at once (its interval sleep is cut short); it needs no lock: the canary's deployment holds it.
extension Engine {
    public func canaryCommand(_ request: CanaryRequest) throws(SlipwayError) -> CanaryStatus {
        let env = try config.environment(request.environment)
        let action = "canary.\(request.action.rawValue)"
        let command = CanaryCommand(action: request.action, actor: request.by.name, reason: request.reason)
        // The command and its audit entry in one transaction: the canary's loop acts only on an audited command.
        let accepted = try store.setCanaryCommand(command, environment: env.name) { c in
            AuditNote(request.by, action: action, target: "\(env.name)/\(c.release)", outcome: "accepted",
                      detail: "deployment \(c.deploymentId), step \(c.step + 1) of \(c.steps)" + (request.reason.map { ": \($0)" } ?? ""))
        }
        guard accepted != nil else {
            try store.audit(request.by, action: action, target: env.name, outcome: "refused", detail: "no canary in progress")
            throw .notFound("no canary is in progress in \(env.name); 'slipway deploy VERSION --strategy canary' starts one")
        }
        wakeCanary(env.name)
        return try canaryStatus(environment: env.name)
    }

    /// The canary in progress (if any) and every decision of the environment's latest canary deployment.
    public func canaryStatus(environment: String?) throws(SlipwayError) -> CanaryStatus {
        let env = try config.environment(environment)
        let record = try store.environment(env.name)
        var id = record.canary?.deploymentId
        if id == nil { id = try store.deployments(environment: env.name, limit: 20).first { $0.strategy == .canary }?.id }
        var decisions: [Event] = []
        if let id { decisions = try store.events(ofDeployment: id, typePrefix: "canary.") }
        return CanaryStatus(environment: env.name, canary: record.canary, deploymentId: id, sticky: env.canary.sticky, decisions: decisions)
    }
}

/// The canary's events and its interval's sleep (a promote or an abort cuts it short).
extension Engine {
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

    /// Sleeps one interval; `wakeCanary` ends it early (a promote or an abort is acted on at once).
    func canaryPause(_ environment: String, _ interval: Duration) async {
        let sleeper = Task { _ = try? await Task.sleep(for: interval) }
        canaryWakers[environment] = sleeper
        await sleeper.value
        if canaryWakers[environment] == sleeper { canaryWakers[environment] = nil }
    }

    func wakeCanary(_ environment: String) { canaryWakers[environment]?.cancel() }
}
