import Foundation
import SlipwayCore
import SlipwayStore

extension ProcessTypes {
    /// `slipway scale TYPE=N`: the count is written (audited) before anything starts or stops, under the
    /// environment's lease; the serving release's processes then converge to it. 0 stops the type.
    func scale(_ name: String, to instances: Int, env: EnvironmentConfig, app: String, actor: Principal) async throws(SlipwayError) {
        guard let type = env.processTypes.first(where: { $0.name == name }) else {
            let known = ([ProcessTypeSettings.web] + env.processTypes.map(\.name)).joined(separator: ", ")
            throw .usage("environment '\(env.name)' has no process type '\(name)' (it has \(known))")
        }
        guard (0...64).contains(instances) else { throw .usage("\(name) instances must be from 0 to 64, got \(instances)") }
        if type.singleton, instances > 1 { throw .usage("\(name) is a singleton: it runs 0 or 1, not \(instances)") }
        try context.admit(PolicyRequest(operation: .scale, environment: env.name, actor: actor))
        try await context.withLease(env.name, holder: "scale \(name) by \(actor.name)", actor: actor) { () async throws -> Void in
            let before = try store.workers.scale(environment: env.name)[name] ?? type.process.instances
            try store.workers.setScale(instances, type: name, environment: env.name,
                                       audit: AuditNote(actor, action: "scale", target: "\(env.name)/\(name)", outcome: "ok", detail: "\(name) to \(instances)",
                                                        before: "\(before)", after: "\(instances)"))
            await converge(env, app: app, to: try store.environment(env.name).currentRelease, report: nil)
        }
    }
}
