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
