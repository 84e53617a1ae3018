import Foundation
import Logging
import SlipwayBackup
import SlipwayCore
import SlipwayStore

extension DeploymentData {
    /// What `rollback VERSION --with-data` would restore and what it would throw away. Reads only.
    public func rollbackPlan(environment: String?, version: String?) async throws(SlipwayError) -> DataRollbackPlan {
        let cfg = try await context.reloadConfig()
        let env = try cfg.environment(environment)
        let record = try store.environment(env.name)
        guard let target = version ?? record.previousRelease else {
            throw .usage("environment '\(env.name)' has no previous release to roll back to; name one: slipway rollback VERSION --with-data")
        }
        let backup = try rollbackBackup(env, version: target)
        let service = try backups.service(for: env)
        let changes = await service.changes(since: backup.manifest)
        var plan = DataRollbackPlan(environment: env.name, version: target, currentRelease: record.currentRelease, backup: backup,
                                    ageSeconds: max(0, Int(Date().timeIntervalSince(backup.createdAt))), changes: changes,
                                    holdLimitMs: Maintenance.dataRollbackHoldMs)
        if let id = backup.deploymentId, env.backup?.continuousSources.isEmpty == false,
           let point = try? backups.resolve(BackupRestoreRequest(BackupRestoreBody(id: "", source: nil, to: nil, beforeDeployment: id), actor: "plan"),
                                            environment: env.name), let time = point.time {
            plan.pointBefore = .init(deploymentId: id, time: time, command: "slipway backup restore --before-deployment \(id) --env \(env.name)")
        }
        return plan
    }

    /// The backup taken before the deploy that replaced `version`: the newest pre-deploy backup taken
    /// while `version` was serving.
    func rollbackBackup(_ env: EnvironmentConfig, version: String) throws(SlipwayError) -> BackupInfo {
        _ = try backups.settings(env)
        let all = try store.data.backups(environment: env.name)
        guard let backup = all.first(where: { $0.reason == "before_deploy" && $0.releaseVersion == version }) else {
            throw .notFound("no backup was taken before the deploy that replaced \(version) in '\(env.name)' (backup.before_deploy was off, "
                            + "or retention removed it); roll back the code alone (slipway rollback \(version)) or restore a backup by id")
        }
        return backup
    }

    /// `rollback --with-data`, before the release switch: a safety backup of the data as it is now
    /// (so the rollback can itself be undone), then the in-place restore of the pre-deploy backup.
    /// Returns the safety backup, or nil when the rollback ended here (failed, nothing changed).
    func restoreForRollback<S: DeploymentSteps>(_ d: inout DeploymentInfo, _ job: DeploymentJob, backup: BackupInfo, log: DeployLog,
                                                on steps: isolated S) async throws(SlipwayError) -> BackupInfo? {
        let env = job.env
        let serving = d.previousVersion.map { "\($0) kept serving its data" } ?? "nothing was serving"
        try steps.step(&d, .backingUp, "taking a safety backup of the data as it is now, before restoring \(backup.id)", log: log)
        let safety: BackupInfo
        do {
            safety = try await backups.take(env, reason: "before_rollback", deploymentId: d.id, actor: d.by)
            steps.note(d, "safety backup \(safety.id) taken (\(safety.size) bytes); restore it to undo this rollback's data", log: log)
        } catch {
            try steps.step(&d, .failed, "refused: the safety backup failed: \(error.message); \(serving)", message: error.cause.map { "\(error.message)\n\($0)" }, log: log)
            return nil
        }
        // Nothing may read or write the data while it is put back: the router holds new requests from
        // here until the switch (or until the rollback gives up), as an operator's runbook would.
        try await steps.holdTraffic(env, for: d)
        try steps.step(&d, .restoringData, "restoring \(backup.id) (taken \(backup.createdAt.ISO8601Format()) before the deploy of \(backup.beforeDeployOf ?? "?")) in place", log: log)
        do {
            let sources = try await backups.restoreInPlace(env, backup, only: nil)
            try store.audit(d.by, action: "backup.restore", target: backup.id, outcome: "ok", detail: "\(sources.joined(separator: ", ")) → in place, for rollback \(d.id)")
            steps.note(d, "restored \(sources.joined(separator: ", ")) from \(backup.id)", log: log)
        } catch {
            try store.audit(d.by, action: "backup.restore", target: backup.id, outcome: "failed", detail: error.message)
            await undoRollback(d, env: job.env, safety: safety, log: log, on: steps)
            try steps.step(&d, .failed, "refused: restoring \(backup.id) failed: \(error.message); \(serving)", message: error.cause.map { "\(error.message)\n\($0)" }, log: log)
            return nil
        }
        return safety
    }

    /// Puts the data back as it was before a `--with-data` rollback that did not finish.
    func undoRollback<S: DeploymentSteps>(_ d: DeploymentInfo, env: EnvironmentConfig, safety: BackupInfo, log: DeployLog, on steps: isolated S) async {
        do {
            _ = try await backups.restoreInPlace(env, safety, only: nil)
            steps.note(d, "the rollback did not finish: the data was put back from the safety backup \(safety.id)", log: log)
            try store.audit(d.by, action: "backup.restore", target: safety.id, outcome: "ok", detail: "undo of rollback \(d.id)")
        } catch {
            steps.note(d, "the rollback did not finish and restoring the safety backup \(safety.id) failed: \(error.message); restore it by hand: slipway backup restore \(safety.id) --yes", log: log)
            logger.error("undo of a data rollback failed", metadata: ["deploy.id": "\(d.id)", "backup.id": "\(safety.id)", "error": "\(error.message)"])
        }
        await steps.releaseTraffic(env, for: d)
    }
}
