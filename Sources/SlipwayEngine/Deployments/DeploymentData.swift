import Foundation
import Logging
import SlipwayBackup
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// A deployment's data steps: the backup before a deploy or a rollback, the migrations (and undoing
/// them), `rollback --with-data`'s restore, and commands run in a release's directory. Each step that
/// moves a deployment on goes through `DeploymentSteps`, like a strategy's.
public struct DeploymentData: Sendable, FeatureObject {
    let context: EngineContext
    let backups: Backups


    /// Before any instance starts: the backup (with `backup.before_deploy`) and the migrations (with
    /// `migrate.up`). Returns false when the deployment ended here, refused, with the old release serving.
    func prepare<S: DeploymentSteps>(_ d: inout DeploymentInfo, _ job: DeploymentJob, log: DeployLog, on steps: isolated S) async throws(SlipwayError) -> Bool {
        let env = job.env
        let serving = d.previousVersion.map { "\($0) kept serving" } ?? "nothing was serving"
        guard d.kind == .deploy else { return try await backUpBeforeRollback(&d, env: env, serving: serving, log: log, on: steps) }
        if let backup = env.backup, backup.beforeDeploy {
            try steps.step(&d, .backingUp, "taking a backup of \(backup.sources.map(\.name).joined(separator: ", ")) before deploying \(d.version)", log: log)
            do {
                let info = try await backups.take(env, reason: "before_deploy", deploymentId: d.id, beforeDeployOf: d.version, actor: d.by)
                steps.note(d, "backup \(info.id) taken (\(info.size) bytes in \(info.durationMs) ms) → \(info.locations.joined(separator: ", "))", log: log)
            } catch {
                try steps.step(&d, .failed, "refused: the backup before the deploy failed: \(error.message); \(serving)",
                         message: error.cause.map { "\(error.message)\n\($0)" } ?? error.message, log: log)
                return false
            }
        }
        if let migrate = env.migrate {
            try steps.step(&d, .migrating, "migrating for \(d.version): \(migrate.up)", log: log)
            let status = try await runMigration(migrate.up, app: job.config.app, env: env, release: d.version, timeout: migrate.timeout, log: log)
            if status != 0 {
                var detail = "refused: the migration exited with status \(status)"
                if let down = migrate.down {
                    let back = try await runMigration(down, app: job.config.app, env: env, release: d.version, timeout: migrate.timeout, log: log)
                    detail += back == 0 ? "; migrate.down ran" : "; migrate.down also failed (status \(back))"
                }
                try steps.step(&d, .failed, "\(detail); \(serving)", message: "\(detail)\n" + ProcessPipeline.tail(log.path, lines: 12), log: log)
                return false
            }
            steps.note(d, Self.migratedNote, log: log)
        }
        return true
    }

    /// `backup.before_rollback`: the data as it is, before a (code) rollback changes what serves it. Returns
    /// false when the backup failed and the rollback ended here, refused.
    func backUpBeforeRollback<S: DeploymentSteps>(_ d: inout DeploymentInfo, env: EnvironmentConfig, serving: String, log: DeployLog, on steps: isolated S) async throws(SlipwayError) -> Bool {
        guard let backup = env.backup, backup.beforeRollback else { return true }
        try steps.step(&d, .backingUp, "taking a backup of \(backup.sources.map(\.name).joined(separator: ", ")) before rolling back to \(d.version)", log: log)
        do {
            let info = try await backups.take(env, reason: "before_rollback", deploymentId: d.id, actor: d.by)
            steps.note(d, "backup \(info.id) taken (\(info.size) bytes in \(info.durationMs) ms) → \(info.locations.joined(separator: ", "))", log: log)
            return true
        } catch {
            try steps.step(&d, .failed, "refused: the backup before the rollback failed: \(error.message); \(serving)",
                     message: error.cause.map { "\(error.message)\n\($0)" } ?? error.message, log: log)
            return false
        }
    }

    /// Runs a migration command in `release`'s directory with the app's environment; output goes to the
    /// deploy log. A command that outlives `timeout` is killed (status 124).
    func runMigration(_ command: String, app: String, env: EnvironmentConfig, release: String, timeout: Duration, log: DeployLog) async throws(SlipwayError) -> Int32 {
        try await runInRelease(command, app: app, env: env, release: release, extra: [:], timeout: timeout, log: log)
    }

    /// Runs `command` (argv, no shell) in `release`'s directory with the app's environment plus `extra`;
    /// output goes to `log`. A command that outlives `timeout` is killed with its whole process group
    /// (status 124).
    func runInRelease(_ command: String, app: String, env: EnvironmentConfig, release: String, extra: [String: String], timeout: Duration,
                      log: DeployLog) async throws(SlipwayError) -> Int32 {
        var vars = try await supervisor.environment(app: app, env: env, release: release, slot: 0, port: 0)
        for (k, v) in extra { vars[k] = v }
        let argv = try CommandLineSplitter.split(command, variables: vars)
        log.write("$ \(command)")
        // An image release's command runs in a container of its image (named for the task, removed after).
        let task = [env.name, release, "task", String(UUID().uuidString.prefix(8)).lowercased()]
        let (child, image) = try await supervisor.spawnInRelease(env, argv: argv, release: release, environment: vars, logFile: log.path, task: task)
        if let status = await ProcessSpawner.wait(child.pid, timeout: timeout) { return status }
        if let image { await supervisor.containers.stop(runtime: image.runtime, name: task, timeout: .seconds(1)) }
        ProcessGroup.signal(child.pid, startTime: child.startTime, SIGKILL)
        _ = await ProcessGroup.waitEmpty(child.pid, startTime: child.startTime, until: .now + .seconds(5))
        log.write("killed after \(DurationParsing.format(timeout))")
        return 124
    }

    /// `slipway migrate --dry-run`: runs `migrate.dry_run` in a release's directory (the newest by default)
    /// and returns its output. Nothing else changes.
    public func migrateDryRun(environment: String?, version: String?) async throws(SlipwayError) -> MigrateDryRunResult {
        let cfg = try await context.reloadConfig()
        let env = try cfg.environment(environment)
        guard let migrate = env.migrate, let command = migrate.dryRun else {
            throw .usage("environment '\(env.name)' has no migrate.dry_run in \(cfg.file)")
        }
        guard let release = version ?? releases.list().last?.version else { throw .notFound("no release exists yet; create one with slipway release create") }
        guard releases.info(release) != nil else { throw .notFound("release \(release) does not exist") }
        let path = "\(cfg.logsDirectory)/migrate-dry-run-\(UUID().uuidString.prefix(8)).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let status = try await context.withLease(env.name, holder: "migrate --dry-run of \(release)", actor: .daemon("migrate --dry-run")) { () async throws -> Int32 in
            try await runMigration(command, app: cfg.app, env: env, release: release, timeout: migrate.timeout, log: DeployLog(path: path))
        }
        let output = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return MigrateDryRunResult(release: release, command: command, status: status, output: output)
    }

    static let migratedNote = "migration finished"

    /// `migrate.on_failure` for a deploy that migrated and was then refused or rolled back (health, a hook):
    /// `down` runs `migrate.down`; `restore` puts the pre-deploy backup back while the router holds requests;
    /// `keep` leaves the schema. A failed migration already ran `migrate.down` itself.
    func undoMigration<S: DeploymentSteps>(_ d: DeploymentInfo, _ job: DeploymentJob, log: DeployLog, on steps: isolated S) async {
        guard d.kind == .deploy, let migrate = job.env.migrate,
              (try? store.events(deployment: d.id))?.contains(where: { $0.detail == Self.migratedNote }) == true else { return }
        let backup = (try? store.data.backups(environment: job.env.name))?.first { $0.reason == "before_deploy" && $0.deploymentId == d.id }
        let mode = migrate.onFailure ?? (migrate.down != nil ? .down : (backup != nil ? .restore : .keep))
        switch mode {
        case .keep:
            steps.note(d, "migrate.on_failure keep: the migration of \(d.version) stays", log: log)
        case .down:
            guard let down = migrate.down else {
                steps.note(d, "migrate.on_failure down, but there is no migrate.down: the migration of \(d.version) stays", log: log)
                return
            }
            let status = (try? await runMigration(down, app: job.config.app, env: job.env, release: d.version, timeout: migrate.timeout, log: log)) ?? -1
            steps.note(d, status == 0 ? "migrate.down ran: the migration of \(d.version) was undone" : "migrate.down failed (status \(status)); the migration of \(d.version) stays", log: log)
        case .restore:
            guard let backup else {
                steps.note(d, "migrate.on_failure restore, but no backup was taken before this deploy: the migration of \(d.version) stays", log: log)
                return
            }
            do {
                try await steps.holdTraffic(job.env, for: d)
                _ = try await backups.restoreInPlace(job.env, backup, only: nil)
                steps.note(d, "restored \(backup.id): the data is as it was before \(d.version)'s migration", log: log)
                try store.audit(d.by, action: "backup.restore", target: backup.id, outcome: "ok", detail: "undo of the migration of deployment \(d.id)")
            } catch {
                steps.note(d, "restoring \(backup.id) to undo the migration failed: \(error.message); restore it by hand: slipway backup restore \(backup.id) --yes", log: log)
            }
            await steps.releaseTraffic(job.env, for: d)
        }
    }
}
