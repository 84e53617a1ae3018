import Foundation
import SlipwayCore
import SlipwayStore

/// `slipway canary promote|abort|status`. A command is persisted on the canary (with its audit entry) and
/// acted on by the canary's loop at once: its interval's sleep (`CanaryAlarms`) is cut short. It needs no
/// lock: the canary's deployment holds it. It owns the running canaries' sleeps; it calls nothing else.
public struct CanaryControl: FeatureObject {
    let context: EngineContext
    /// The running canaries' interval sleeps, per environment.
    let alarms = CanaryAlarms()

    public func command(_ request: CanaryRequest) async throws(SlipwayError) -> CanaryStatus {
        let env = try config.environment(request.environment)
        let action = "canary.\(request.action.rawValue)"
        let command = CanaryCommand(action: request.action, actor: request.by.name, reason: request.reason)
        // The command and its audit entry in one transaction: the canary's loop acts only on an audited command.
        let accepted = try store.environments.setCanaryCommand(command, environment: env.name) { c in
            AuditNote(request.by, action: action, target: "\(env.name)/\(c.release)", outcome: "accepted",
                      detail: "deployment \(c.deploymentId), step \(c.step + 1) of \(c.steps)" + (request.reason.map { ": \($0)" } ?? ""))
        }
        guard let accepted else {
            try store.audit(request.by, action: action, target: env.name, outcome: "refused", detail: "no canary in progress")
            throw .notFound("no canary is in progress in \(env.name); 'slipway deploy VERSION --strategy canary' starts one")
        }
        // The canary as the command's own transaction saved it: the canary's loop (another actor) may act on
        // the command and clear it at any moment after that, and the answer still shows what was accepted.
        let shown = try status(env, canary: accepted)
        await alarms.wake(env.name)
        return shown
    }

    /// The canary in progress (if any) and every decision of the environment's latest canary deployment.
    public func status(environment: String?) throws(SlipwayError) -> CanaryStatus {
        let env = try config.environment(environment)
        return try status(env, canary: try store.environment(env.name).canary)
    }

    private func status(_ env: EnvironmentConfig, canary: CanaryInfo?) throws(SlipwayError) -> CanaryStatus {
        var id = canary?.deploymentId
        if id == nil { id = try store.deployments(environment: env.name, limit: 20).first { $0.strategy == .canary }?.id }
        var decisions: [Event] = []
        if let id { decisions = try store.events(ofDeployment: id, typePrefix: "canary.") }
        var status = CanaryStatus(environment: env.name, canary: canary, deploymentId: id, sticky: env.canary.sticky, decisions: decisions)
        if !env.processTypes.isEmpty { status.processTypes = env.processTypes.map(\.name) }
        return status
    }
}

/// The running canaries' interval sleeps, per environment: a promote or an abort cuts one short.
actor CanaryAlarms {
    private var sleepers: [String: Task<Void, Never>] = [:]

    /// Sleeps one interval; `wake` ends it early.
    func pause(_ environment: String, _ interval: Duration) async {
        let sleeper = Task { _ = try? await Task.sleep(for: interval) }
        sleepers[environment] = sleeper
        await sleeper.value
        if sleepers[environment] == sleeper { sleepers[environment] = nil }
    }

    func wake(_ environment: String) { sleepers[environment]?.cancel() }
}
