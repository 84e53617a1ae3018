import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Deployments {
    /// Validates and starts a deployment (or rollback); returns at once with its id. The CLI follows its events.
    public func startDeployment(_ request: DeployRequest) async throws(SlipwayError) -> DeploymentInfo {
        try await startDeployment(request, undoing: nil)
    }

    /// One pass of the post-deploy watches (`Watches.pass`) over the `watched` environments: a rollback it
    /// decides on starts here, undoing the watched deployment.
    func passWatches(now: Date, watched: [String]) async {
        await watches.pass(now: now, watched: watched) { request, undoing in try await self.startDeployment(request, undoing: undoing) }
    }

    /// `undoing`: the deployment a watch's rollback reverses (its migration is undone after the switch back).
    func startDeployment(_ request: DeployRequest, undoing: Int64?) async throws(SlipwayError) -> DeploymentInfo {
        let cfg = try await context.reloadConfig()
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
        let commitTime = releases.info(version)?.gitCommitTime
        var dataBackup: BackupInfo?
        if request.withData == true {
            guard request.kind == .rollback else { throw .usage("--with-data goes with rollback, not deploy") }
            _ = try backups.service(for: env)  // its secrets resolve, before anything starts
            let backup = try dataSteps.rollbackBackup(env, version: version)
            if let confirmed = request.backupId, confirmed != backup.id {
                throw .usage("the rollback would now restore \(backup.id), not \(confirmed) as confirmed; run it again to see what it would do")
            }
            dataBackup = backup
        }
        // A rollback always starts the target beside the current release: with warm instances it takes about a second.
        let strategy = request.kind == .rollback ? .blueGreen : (request.strategy ?? env.strategy)
        var policyRequest = PolicyRequest(operation: request.kind == .rollback ? .rollback : .deploy, environment: env.name, version: version,
                                          actor: request.by, force: request.force == true)
        policyRequest.overrideWindow = request.overrideWindow == true
        try context.admit(policyRequest, reason: request.reason)
        let now = Date()
        var draft = DeploymentInfo(id: 0, environment: env.name, version: version, previousVersion: record.currentRelease,
                                   kind: request.kind, strategy: strategy, state: .pending, actor: request.actor, startedAt: now, logFile: "",
                                   onBehalfOf: request.onBehalfOf)
        draft.commitTime = commitTime
        draft.undoes = undoing
        let logs = cfg.logsDirectory
        let kindName = request.kind.rawValue
        let detail = "\(request.kind.rawValue) \(version) to \(env.name) (\(strategy.rawValue)), requested by \(request.by)"
            + (request.reason.map { ": \($0)" } ?? "")
        if request.kind == .deploy, let approvals = env.governance.approvals, approvals.required > 0 {
            return try self.approvals.request(draft, detail: detail, required: approvals.required, logs: logs, by: request.by)
        }
        let (lease, d): (Lease, DeploymentInfo)
        do {
            (lease, d) = try Lease.acquire(store, environment: env.name, holder: "\(request.kind.rawValue) of \(version) by \(request.actor)",
                                           actor: request.by, settings: leaseSettings, logger: logger) { db, appended in
                try SlipwayStore.insertDeployment(db, draft, detail: detail, appended: &appended) { DeployLog.name(kind: kindName, id: $0, at: now, in: logs) }
            }
        } catch {
            try store.audit(request.by, action: request.kind.rawValue, target: "\(env.name)/\(version)", outcome: "refused", detail: error.message)
            throw error
        }
        try store.audit(request.by, action: request.kind.rawValue, target: "\(env.name)/\(version)", outcome: "started", detail: "deployment \(d.id)",
                    before: record.currentRelease ?? "-", after: version)
        var job = DeploymentJob(deployment: d, config: cfg, env: env, lease: lease, data: dataBackup, undoing: undoing)
        job.skipData = request.skipData == true
        guard queue.submit(job) else {
            lease.release()
            logger.write("end deployment \(d.id)", to: store) { () throws(SlipwayError) in
                try store.transition(d.id, to: .failed, actor: holder, detail: "the daemon is stopping; nothing changed", reason: .interrupted)
            }
            throw SlipwayError(.unavailable, "the daemon is stopping; start the deployment again once it is back")
        }
        return d
    }

    /// Runs a deployment to its end, holding its environment's lease throughout.
    func execute(_ job: DeploymentJob) async {
        await job.lease.hold { () async -> Void in await run(job) }
    }

    /// The deployment's steps: data first (`rollback --with-data` restores, a deploy backs up and migrates),
    /// then its strategy. Stops at a step boundary when the daemon shuts down (reconcile continues it).
    private func run(_ job: DeploymentJob) async {
        let log = DeployLog(path: job.deployment.logFile)
        var d = job.deployment
        var safety: BackupInfo?
        do {
            var proceed: Bool
            if job.resume {
                proceed = true
            } else if job.skipData {
                if job.env.migrate != nil || job.env.backup?.beforeDeploy == true || job.env.backup?.beforeRollback == true {
                    note(d, "no backup or migration here: the fleet runs them once, on its first host (fleet.data: once)", log: log)
                }
                proceed = true
            } else if let data = job.data {
                safety = try await dataSteps.restoreForRollback(&d, job, backup: data, log: log, on: self)
                proceed = safety != nil
            } else {
                proceed = try await dataSteps.prepare(&d, job, log: log, on: self)
            }
            if proceed { try await Strategies.named(d.strategy).run(&d, job, log: log, on: self) }
        } catch where error.reason == .daemonStopping {
            log.write("the daemon is stopping: deployment \(d.id) stays in state \(d.state.rawValue); the next start completes or rolls it back")
            logger.notice("deployment left for the next start", metadata: ["deploy.id": "\(d.id)", "deploy.state": "\(d.state.rawValue)"])
            return
        } catch {
            log.write("error: \(error)")
            logger.error("deployment failed unexpectedly", metadata: ["deploy.id": "\(d.id)", "error": "\(error)"])
            if let current = try? store.deployment(d.id), !current.state.isTerminal {
                let next: DeploymentState = current.state.allowedNext.contains(.failed) ? .failed : .rollingBack
                logger.write("record deployment \(d.id)'s error", to: store) { () throws(SlipwayError) in try step(&d, next, "stopped by an error: \(error)", log: log) }
                if next == .rollingBack { await restorePrevious(&d, job, log: log, reason: "\(error)") }
            }
        }
        // A deploy that migrated and then did not end serving its release undoes the migration as configured.
        if job.data == nil, let state = (try? store.deployment(d.id))?.state, state == .failed || state == .rolledBack {
            await dataSteps.undoMigration(d, job, log: log, on: self)
        }
        // A data rollback that did not end serving the old release puts the newer data back.
        if let safety, (try? store.deployment(d.id))?.state != .succeeded { await dataSteps.undoRollback(d, env: job.env, safety: safety, log: log, on: self) }
        let final = (try? store.deployment(d.id)) ?? d
        if final.state == .succeeded { await watches.start(final, job) }
        // The watch rolled back a deploy that migrated: with the previous release serving again, undo its migration.
        if final.state == .succeeded, let id = job.undoing, let original = try? store.deployment(id) {
            await dataSteps.undoMigration(original, job, log: log, on: self)
        }
        // The deployment has happened: an entry that cannot be written is counted and logged.
        store.audit(d.by, action: d.kind.rawValue, target: "\(d.environment)/\(d.version)", outcome: final.outcome ?? final.state.rawValue,
                    detail: "deployment \(d.id)", before: d.previousVersion ?? "-", after: (try? store.environment(d.environment).currentRelease) ?? "-",
                    orLog: logger)
        // A deploy that failed (not a rejection, not a daemon stopping) opens an incident or joins the open one.
        if final.state == .failed, d.kind == .deploy, final.endReason == nil, let why = final.message {
            await signals.raiseIncident(d.environment, severity: .p2, title: "deploy of \(d.version) failed in \(d.environment)",
                                trigger: "failed deployment \(d.id): \(why.split(separator: "\n").first ?? "")",
                                cause: .failedDeployment(d.id), now: Date())
        }
    }

    /// Persists a transition (with its event) before acting on it, and logs it.
    @discardableResult
    func step(_ d: inout DeploymentInfo, _ state: DeploymentState, _ detail: String, message: String? = nil,
              reason: DeploymentInfo.EndReason? = nil, log: DeployLog) throws(SlipwayError) -> DeploymentInfo {
        let id = d.id
        return try record(&d, state, detail, log: log) { () throws(SlipwayError) in
            try store.transition(id, to: state, actor: holder, detail: detail, message: message, reason: reason)
        }
    }

    /// What every transition does around `persist` (which writes it, with whatever shares its transaction):
    /// at shutdown a step that is not the last is left to the next start; after the write, the deployment's
    /// log and the daemon's log say it.
    @discardableResult
    func record(_ d: inout DeploymentInfo, _ state: DeploymentState, _ detail: String, log: DeployLog,
                persist: () throws(SlipwayError) -> DeploymentInfo) throws(SlipwayError) -> DeploymentInfo {
        // On graceful shutdown the step in progress has finished; the next one is left to the next start.
        if queue.isStopping && !state.isTerminal { throw SlipwayError.daemonStopping }
        d = try persist()
        log.write("[\(state.rawValue)] \(detail)")
        logger.info("\(detail)", metadata: ["deploy.id": "\(d.id)", "deploy.state": "\(state.rawValue)", "release.version": "\(d.version)"])
        return d
    }

    func note(_ d: DeploymentInfo, _ detail: String, log: DeployLog) {
        context.note(d, detail, by: holder, log: log)
    }

    /// Starts the instances `release` needs (reusing warm standby ones) and gates them on health.
    /// Returns the instances, or nil and a message when they were not ready by the deadline (fresh ones are stopped).
    func startAndVerify(_ d: inout DeploymentInfo, _ job: DeploymentJob, count: Int, log: DeployLog) async throws(SlipwayError) -> (ready: [InstanceRecord], failure: String?) {
        let env = job.env
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
                let i = try await supervisor.start(app: job.config.app, env: env, release: d.version, slot: slot)
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
        // A data rollback's hold on new requests ends with the switch: held requests go to the restored release.
        let lifted = try store.environments.switchRelease(environment: env.name, to: d.version, previous: previous,
                                             standbyUntil: Date().addingTimeInterval(env.keepWarm.seconds), liftingHoldOf: Maintenance.holder(of: d.id))
        try await pushTable()
        if lifted { maintenanceModes.record(env.name, nil, detail: "held requests released to \(d.version) at the switch") }
    }

    func gate(_ instances: [InstanceRecord], settings: HealthSettings) async -> GateOutcome { await instanceSteps.gate(instances, settings: settings) }

    func markServing(_ instances: [InstanceRecord], env: EnvironmentConfig) async throws(SlipwayError) {
        try await instanceSteps.markServing(instances, env: env)
    }
}

extension DeploymentInfo {
    /// Who asked for it: the verified OS user, and the note the client sent.
    var by: Principal { Principal(name: actor, via: .socket, onBehalfOf: onBehalfOf) }
}
