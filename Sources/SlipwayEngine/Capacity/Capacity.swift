import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// `slipway scale` (and autoscaling's scales) and `slipway down`: how many instances of the current release
/// serve, and taking environments offline. Each under the environment's lease. New instances are started,
/// gated and marked serving through `DeploymentSteps`, as a deployment's are.
public struct Capacity: Sendable, FeatureObject {
    let context: EngineContext
    let routing: Routing
    let processTypes: ProcessTypes

    /// Changes the number of instances of the current release, health-gating new ones before they get traffic.
    /// The wanted count is saved only once it serves; a gate that fails leaves the count and the traffic as they were.
    /// Returns the environment's name.
    func scale<S: DeploymentSteps>(_ request: ScaleRequest, on steps: isolated S) async throws(SlipwayError) -> String {
        let cfg = try await context.reloadConfig()
        let env = try cfg.environment(request.environment)
        if let type = request.type, type != ProcessTypeSettings.web {
            try await processTypes.scale(type, to: request.instances, env: env, app: cfg.app, actor: request.by)
            return env.name
        }
        guard (1...64).contains(request.instances) else { throw .usage("instances must be from 1 to 64, got \(request.instances)") }
        try context.admit(PolicyRequest(operation: .scale, environment: env.name, actor: request.by))
        try await context.withLease(env.name, holder: "scale by \(request.actor)", actor: request.by) { () async throws -> Void in
            let before = try steps.startingPoint(env).count
            try await resize(env, app: cfg.app, to: request.instances, actor: request.by, on: steps)
            try store.audit(request.by, action: "scale", target: env.name, outcome: "ok", detail: "to \(request.instances) instance(s)",
                        before: "\(before) instance(s)", after: "\(request.instances) instance(s)")
        }
        return env.name
    }

    private func resize<S: DeploymentSteps>(_ env: EnvironmentConfig, app: String, to wanted: Int, actor: Principal, on steps: isolated S) async throws(SlipwayError) {
        guard let current = try store.environment(env.name).currentRelease else {
            try store.environments.setInstanceCount(wanted, environment: env.name)
            return
        }
        let live = try store.instances(environment: env.name).filter { $0.release == current && $0.state != .standby && $0.state != .stopping }
        if live.count < wanted {
            var fresh: [InstanceRecord] = []
            while live.count + fresh.count < wanted {
                do { fresh.append(try await supervisor.start(app: app, env: env, release: current, slot: Strategies.freeSlot(live + fresh))) } catch {
                    await supervisor.stopAll(fresh, timeout: env.process.stopTimeout)
                    throw error
                }
            }
            let settings = env.health
            guard await steps.gate(fresh, settings: settings) == .ready else {
                await supervisor.stopAll(fresh, timeout: env.process.stopTimeout)
                try store.audit(actor, action: "scale", target: env.name, outcome: "failed", detail: "to \(wanted)")
                throw .failed("the new instances of \(current) were not ready within \(DurationParsing.format(settings.deadline)); "
                              + "still \(live.count) instance(s), traffic unchanged")
            }
            try await steps.markServing(fresh, env: env)
            try store.environments.setInstanceCount(wanted, environment: env.name)
            try await routing.push()
        } else {
            try store.environments.setInstanceCount(wanted, environment: env.name)
            guard live.count > wanted else { return }
            let victims = live.sorted { $0.slot < $1.slot }.suffix(live.count - wanted)
            for var i in victims { i.state = .stopping; i.ready = false; try store.save(i) }
            try await routing.push()
            _ = await routing.waitForDrain(environment: env.name, pool: current, timeout: .milliseconds(200))
            await supervisor.stopAll(Array(victims), timeout: env.process.stopTimeout)
        }
    }

    /// Takes environments offline: stops their instances and removes their listeners; with `all`, stops the router too.
    func down(environment: String?, all: Bool, actor: Principal) async throws(SlipwayError) {
        let cfg = try await context.reloadConfig()
        var names = cfg.environmentNames
        if !all { names = [try cfg.environment(environment).name] }
        for name in names {
            guard let env = cfg.environments[name] else { continue }
            try await context.withLease(name, holder: "down by \(actor.name)", actor: actor) { () async throws -> Void in
                try store.environments.takeOffline(environment: name)
                // Best effort: the instances stop next either way, and a router that missed the table answers 502 for them.
                await routing.pushLogged()
                await supervisor.stopAll(try store.instances(environment: name), timeout: env.process.stopTimeout)
                await processTypes.converge(env, app: cfg.app, to: nil, report: nil)
            }
            try store.audit(actor, action: "down", target: name, outcome: "ok")
        }
        if all { await router.stop(logger: context.logger) } else { try await routing.push() }
    }
}
