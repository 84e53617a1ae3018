import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// The state as it is now: environments (`slipway status`), deployments (`history`, a deployment's
/// progress) and locks.
extension Reports {
    /// Each environment (or the one named): releases, instances with their last CPU and memory, lock, maintenance,
    /// secrets' sources, canary, watch, free disk, the continuous archives' position and lag.
    public func status(environment: String?) async throws(SlipwayError) -> [EnvironmentStatus] {
        var names = config.environmentNames
        if let environment { names = [try config.environment(environment).name] }
        let locks = try store.locks()
        let secrets = Secrets(root: config.root)
        let usage = await signals.instanceUsage
        var out: [EnvironmentStatus] = []
        for name in names {
            guard let env = config.environments[name] else { continue }
            let record = try store.environment(name)
            var status = (EnvironmentStatus(name: name, currentRelease: record.currentRelease, previousRelease: record.previousRelease,
                                         listen: env.router.listen.description, strategy: env.strategy,
                                         lock: locks.first { $0.environment == name },
                                         instances: try store.instances(environment: name).map { i in
                                             var info = i.info
                                             if let id = i.id, let used = usage[id] { info.cpu = used.cpu; info.rssBytes = used.rss }
                                             return info
                                         }, maintenance: record.maintenance,
                                         secrets: secrets.sources(of: env.secretNames, environment: name),
                                         shared: config.sharedDirectory(name), watch: record.watch))
            status.canary = record.canary
            status.diskFree = Signals.diskFree(config.root)
            status.memoryLimit = env.process.memoryLimit
            if env.process.memoryLimit != nil { status.memoryLimitEnforcement = supervisor.cgroup.enforcement }
            let accessories = try await self.accessories.listed(environment: name, config: config)
            if !accessories.isEmpty { status.accessories = accessories }
            if !env.processTypes.isEmpty { status.processes = try await processTypes.listed(env, serving: record.currentRelease) }
            let archives = signals.continuousBoard.statuses.filter { $0.environment == name }
            if !archives.isEmpty { status.continuous = archives }
            out.append(status)
        }
        return out
    }

    /// The status of the environment named `name` (after an operation on it).
    func status(of name: String) async throws(SlipwayError) -> EnvironmentStatus {
        guard let status = try await status(environment: name).first else { throw .notFound("no environment \(name)") }
        return status
    }

    public func history(environment: String?, limit: Int = 50) throws(SlipwayError) -> [DeploymentInfo] {
        if let environment { _ = try config.environment(environment) }
        return try store.deployments(environment: environment, limit: limit)
    }

    public func progress(_ id: Int64, after seq: Int64) throws(SlipwayError) -> DeploymentProgress {
        guard let d = try store.deployment(id) else { throw .notFound("no deployment \(id); slipway history lists them") }
        return DeploymentProgress(deployment: d, events: try store.events(deployment: id, after: seq))
    }

    public func locks() throws(SlipwayError) -> [LockInfo] { try store.locks() }
}
