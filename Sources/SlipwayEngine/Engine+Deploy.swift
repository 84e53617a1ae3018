import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Engine {
    /// Validates and starts a deployment (or rollback); returns at once with its id. The CLI follows its events.
    public func startDeployment(_ request: DeployRequest) async throws(SlipwayError) -> DeploymentInfo {
        let cfg = try await reloadConfig()
        let env = try cfg.environment(request.environment)
        let record = try store.environment(env.name)
        let version: String
        switch request.kind {
        case .deploy:
            guard let v = request.version else { throw .usage("deploy needs a VERSION (slipway releases lists them)") }
            version = v
        case .rollback:
            guard let v = request.version ?? record.previousRelease else {
                throw .usage("environment '\(env.name)' has no previous release to roll back to; name one: slipway rollback VERSION")
            }
            guard v != record.currentRelease else { throw .usage("release \(v) is already serving '\(env.name)'") }
            version = v
        }
        try ReleaseVersion.validate(version)
        guard releases.info(version) != nil else {
            throw .notFound("release \(version) does not exist; create it with 'slipway release create \(version)' (slipway releases lists the retained ones)")
        }
        var dataBackup: BackupInfo?
        if request.withData == true {
            guard request.kind == .rollback else { throw .usage("--with-data goes with rollback, not deploy") }
            _ = try backupService(env)  // its secrets resolve, before anything starts
            let backup = try dataRollbackBackup(env, version: version)
            if let confirmed = request.backupId, confirmed != backup.id {
                throw .usage("the rollback would now restore \(backup.id), not \(confirmed) as confirmed; run it again to see what it would do")
            }
            dataBackup = backup
        }
        // A rollback always starts the target beside the current release: with warm instances it takes about a second.
        let strategy = request.kind == .rollback ? .blueGreen : (request.strategy ?? env.strategy)
        let now = Date()
        let draft = DeploymentInfo(id: 0, environment: env.name, version: version, previousVersion: record.currentRelease,
                                   kind: request.kind, strategy: strategy, state: .pending, actor: request.actor, startedAt: now, logFile: "")
        let logs = cfg.logsDirectory
        let kindName = request.kind.rawValue
        let d: DeploymentInfo
        do {
            d = try store.beginDeployment(draft, holder: "\(request.kind.rawValue) of \(version) by \(request.actor)",
                                          detail: "\(request.kind.rawValue) \(version) to \(env.name) (\(strategy.rawValue)), requested by \(request.actor)") {
                DeployLog.name(kind: kindName, id: $0, at: now, in: logs)
            }
        } catch {
            store.audit(actor: request.actor, action: request.kind.rawValue, target: "\(env.name)/\(version)", outcome: "refused", detail: error.message)
            throw error
        }
        store.audit(actor: request.actor, action: request.kind.rawValue, target: "\(env.name)/\(version)", outcome: "started", detail: "deployment \(d.id)")
        let data = dataBackup
        running[d.id] = Task { await self.execute(d, env: env, data: data) }
        return d
    }

    /// Waits for a deployment started by this engine to end (tests and the demo).
    public func wait(_ id: Int64) async -> DeploymentInfo? {
        if let task = running[id] { await task.value }
        return try? store.deployment(id)
    }

    /// Runs a deployment to its end. `data`: for `rollback --with-data`, the backup restored before the switch.
    func execute(_ deployment: DeploymentInfo, env: EnvironmentConfig, data: BackupInfo? = nil) async {
        let log = DeployLog(path: deployment.logFile)
        let heartbeat = heartbeat(deployment.environment, holder: "\(deployment.kind.rawValue) of \(deployment.version) by \(deployment.actor)")
        var d = deployment
        var safety: BackupInfo?
        do {
            var proceed: Bool
            if let data {
                safety = try await restoreDataForRollback(&d, env: env, backup: data, log: log)
                proceed = safety != nil
            } else {
                proceed = try await prepareData(&d, env: env, log: log)
            }
            if proceed {
                switch d.strategy {
                case .blueGreen: try await blueGreen(&d, env: env, log: log)
                case .recreate: try await recreate(&d, env: env, log: log)
                }
            }
        } catch {
            log.write("error: \(error)")
            logger.error("deployment failed unexpectedly", metadata: ["deploy.id": "\(d.id)", "error": "\(error)"])
            if let current = try? store.deployment(d.id), !current.state.isTerminal {
                let next: DeploymentState = current.state.allowedNext.contains(.failed) ? .failed : .rollingBack
                _ = try? step(&d, next, "stopped by an error: \(error)", log: log)
                if next == .rollingBack { await restorePrevious(&d, env: env, log: log, reason: "\(error)") }
            }
        }
        // A data rollback that did not end serving the old release puts the newer data back.
        if let safety, (try? store.deployment(d.id))?.state != .succeeded { await undoDataRollback(d, env: env, safety: safety, log: log) }
        heartbeat.cancel()
        _ = try? store.releaseLock(environment: d.environment)
        let final = (try? store.deployment(d.id)) ?? d
        store.audit(actor: d.actor, action: d.kind.rawValue, target: "\(d.environment)/\(d.version)", outcome: final.outcome ?? final.state.rawValue,
                    detail: "deployment \(d.id)")
        running[d.id] = nil
    }

    /// Persists a transition (with its event) before acting on it, and logs it.
    @discardableResult
    func step(_ d: inout DeploymentInfo, _ state: DeploymentState, _ detail: String, message: String? = nil, log: DeployLog) throws(SlipwayError) -> DeploymentInfo {
        d = try store.transition(d.id, to: state, actor: holder, detail: detail, message: message)
        log.write("[\(state.rawValue)] \(detail)")
        logger.info("\(detail)", metadata: ["deploy.id": "\(d.id)", "deploy.state": "\(state.rawValue)", "release.version": "\(d.version)"])
        return d
    }

    func note(_ d: DeploymentInfo, _ detail: String, log: DeployLog) {
        try? store.note(d.id, actor: holder, detail: detail)
        log.write(detail)
    }

    /// Starts the instances `release` needs (reusing warm standby ones) and gates them on health.
    /// Returns the instances, or nil and a message when they were not ready by the deadline (fresh ones are stopped).
    func startAndVerify(_ d: inout DeploymentInfo, env: EnvironmentConfig, count: Int, log: DeployLog) async throws(SlipwayError) -> (ready: [InstanceRecord], failure: String?) {
        let warm = try store.instances(environment: env.name).filter {
            $0.release == d.version && $0.state == .standby && ProcessInspector.isAlive(pid: $0.pid, startTime: UInt64($0.procStartTime))
        }
        var targets = Array(warm.prefix(count))
        let startedHere = max(0, count - targets.count)
        try step(&d, .starting, warm.isEmpty ? "starting \(count) instance(s) of \(d.version)"
                 : "reusing \(targets.count) warm instance(s) of \(d.version)" + (startedHere > 0 ? ", starting \(startedHere)" : ""), log: log)
        var fresh: [InstanceRecord] = []
        let usedSlots = Set(targets.map(\.slot))
        var slot = 0
        while targets.count < count {
            while usedSlots.contains(slot) { slot += 1 }
            do {
                let i = try await supervisor.start(app: config.app, env: env, release: d.version, slot: slot)
                fresh.append(i)
                targets.append(i)
                note(d, "started \(env.name)-\(d.version)-\(slot): pid \(i.pid), port \(i.port)", log: log)
            } catch {
                await supervisor.stopAll(fresh, timeout: env.process.stopTimeout)
                return ([], "cannot start \(d.version): \(error.message)")
            }
            slot += 1
        }
        var gateSettings = env.health
        if fresh.isEmpty { gateSettings.healthyThreshold = 1 }
        let settings = gateSettings
        try step(&d, .verifying, "waiting for \(count) instance(s) to answer \(settings.path) (deadline \(DurationParsing.format(settings.deadline)))", log: log)
        let outcome = await gate(targets, settings: settings)
        if case .expired(let last) = outcome {
            var lines = ["release \(d.version) was not ready within \(DurationParsing.format(settings.deadline))"]
            for (i, inst) in targets.enumerated() {
                let answer = i < last.count ? last[i].detail : "no answer"
                lines.append("  instance \(inst.slot) (pid \(inst.pid), port \(inst.port)): last health answer: \(answer)")
                let tail = await supervisor.logTail(inst, lines: 8).split(separator: "\n").map { "    | \($0)" }.joined(separator: "\n")
                lines.append("  log tail (\(inst.logFile)):\n\(tail)")
            }
            await supervisor.stopAll(fresh, timeout: env.process.stopTimeout)
            return ([], lines.joined(separator: "\n"))
        }
        return (targets, nil)
    }

    /// Marks `targets` as the serving release, records current/previous, pushes the table.
    func switchTo(_ d: inout DeploymentInfo, env: EnvironmentConfig, targets: [InstanceRecord], previous: String?, log: DeployLog) async throws(SlipwayError) {
        try await markServing(targets, env: env)
        var record = try store.environment(env.name)
        if previous != d.version { record.previousRelease = previous }
        record.currentRelease = d.version
        record.standbyUntil = Date().addingTimeInterval(env.keepWarm.seconds)
        try store.save(record)
        try await pushTable()
    }

    /// Probes `instances` until all are ready or the deadline passes.
    func gate(_ instances: [InstanceRecord], settings: HealthSettings) async -> GateOutcome {
        let ports = instances.map(\.port)
        let prober = HealthProber()
        do {
            return try await HealthGate(clock: ContinuousClock(), settings: settings).run(instances: instances.count) { i in
                await prober.probe(port: ports[i], path: settings.path, timeout: settings.timeout)
            }
        } catch {
            return .expired(lastResults: [])
        }
    }

    /// Records instances as running and ready (they just passed the gate) so the next table includes them.
    func markServing(_ instances: [InstanceRecord], env: EnvironmentConfig) async throws(SlipwayError) {
        for var i in instances {
            i.state = .running
            i.ready = true
            try store.save(i)
        }
        await supervisor.markServing(instances.compactMap(\.id), healthy: env.health.healthyThreshold, unhealthy: env.health.unhealthyThreshold)
    }
}
