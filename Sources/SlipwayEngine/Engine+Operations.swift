import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Engine {
    /// Builds (release.build) and copies release.files, or copies `from`, into an immutable release.
    public func createRelease(_ request: ReleaseCreateRequest) async throws(SlipwayError) -> ReleaseInfo {
        let cfg = try await reloadConfig()
        try ReleaseVersion.validate(request.version)
        var source = cfg.directory
        var files: [String]? = cfg.release.files
        if let from = request.from {
            source = from
            files = nil
        } else {
            if let build = cfg.release.build {
                let argv = try CommandLineSplitter.split(build, variables: ProcessInfo.processInfo.environment)
                let logFile = "\(cfg.logsDirectory)/build-\(request.version).log"
                let status = try await ProcessSpawner.run(argv: argv, directory: cfg.directory,
                                                          environment: ProcessInfo.processInfo.environment, logFile: logFile)
                guard status == 0 else {
                    store.audit(actor: request.actor, action: "release.create", target: request.version, outcome: "failed", detail: "build exited \(status)")
                    throw .failed("release.build exited with status \(status); see \(logFile)")
                }
            }
            if files?.isEmpty ?? true {
                throw .usage("nothing to put in release \(request.version): set release.files in \(cfg.file) or pass --from DIR")
            }
        }
        do {
            let info = try releases.create(version: request.version, source: source, files: files, creator: request.actor, gitDirectory: source)
            store.audit(actor: request.actor, action: "release.create", target: request.version, outcome: "ok", detail: info.digest)
            return info
        } catch {
            store.audit(actor: request.actor, action: "release.create", target: request.version, outcome: "failed", detail: error.message)
            throw error
        }
    }

    /// Changes the number of instances of the current release, health-gating new ones before they get traffic.
    public func scale(_ request: ScaleRequest) async throws(SlipwayError) -> EnvironmentStatus {
        let cfg = try await reloadConfig()
        let env = try cfg.environment(request.environment)
        guard (1...64).contains(request.instances) else { throw .usage("instances must be from 1 to 64, got \(request.instances)") }
        let lockHolder = "scale by \(request.actor)"
        try store.acquireLock(environment: env.name, holder: lockHolder, deploymentId: nil, actor: request.actor)
        defer { _ = try? store.releaseLock(environment: env.name, holder: lockHolder) }
        var record = try store.environment(env.name)
        record.instances = request.instances
        try store.save(record)
        if let current = record.currentRelease {
            let live = try store.instances(environment: env.name).filter { $0.release == current && $0.state != .standby && $0.state != .stopping }
            if live.count < request.instances {
                var fresh: [InstanceRecord] = []
                var slot = 0
                while live.count + fresh.count < request.instances {
                    while live.contains(where: { $0.slot == slot }) || fresh.contains(where: { $0.slot == slot }) { slot += 1 }
                    fresh.append(try await supervisor.start(app: cfg.app, env: env, release: current, slot: slot))
                }
                let settings = env.health
                guard await gate(fresh, settings: settings) == .ready else {
                    await supervisor.stopAll(fresh, timeout: env.process.stopTimeout)
                    store.audit(actor: request.actor, action: "scale", target: env.name, outcome: "failed", detail: "to \(request.instances)")
                    throw .failed("the new instances of \(current) were not ready within \(DurationParsing.format(settings.deadline)); scale unchanged in traffic")
                }
                try await markServing(fresh, env: env)
                try await pushTable()
            } else if live.count > request.instances {
                let victims = live.sorted { $0.slot < $1.slot }.suffix(live.count - request.instances)
                for var i in victims { i.state = .stopping; i.ready = false; try store.save(i) }
                try await pushTable()
                _ = await waitForDrain(environment: env.name, pool: current, timeout: .milliseconds(200))
                await supervisor.stopAll(Array(victims), timeout: env.process.stopTimeout)
            }
        }
        store.audit(actor: request.actor, action: "scale", target: env.name, outcome: "ok", detail: "to \(request.instances) instance(s)")
        guard let status = try status(environment: env.name).first else { throw .notFound("no environment \(env.name)") }
        return status
    }

    /// Takes environments offline: stops their instances and removes their listeners; with `all`, stops the router too.
    public func down(environment: String?, all: Bool, actor: String) async throws(SlipwayError) {
        let cfg = try await reloadConfig()
        var names = cfg.environmentNames
        if !all { names = [try cfg.environment(environment).name] }
        for name in names {
            guard let env = cfg.environments[name] else { continue }
            let lockHolder = "down by \(actor)"
            try store.acquireLock(environment: name, holder: lockHolder, deploymentId: nil, actor: actor)
            var record = try store.environment(name)
            if let c = record.currentRelease { record.previousRelease = c }
            record.currentRelease = nil
            record.standbyUntil = nil
            try store.save(record)
            try? await pushTable()
            await supervisor.stopAll(try store.instances(environment: name), timeout: env.process.stopTimeout)
            try store.releaseLock(environment: name, holder: lockHolder)
            store.audit(actor: actor, action: "down", target: name, outcome: "ok")
        }
        if all { await router.stop() } else { try await pushTable() }
    }
}
