import Foundation
import Logging
import SlipwayBackup
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import SlipwayStore

extension Backups {
    /// `slipway drill`: restores the newest backup (or, with `--latest`/`--to-time`, the continuous archive to a
    /// point) into scratch, starts the serving release on it (its own port, SLIPWAY_SHARED and database secrets
    /// pointed at the scratch copies), health-checks it, and reports the time of each recovery phase (RTO) and the
    /// backup's age, or the archive's measured lag (RPO), against the targets.
    public func drill(_ request: DrillRequest) async throws(SlipwayError) -> DrillReport {
        let cfg = try await context.reloadConfig()
        let env = try cfg.environment(request.environment)
        return try await context.withLease(env.name, holder: "drill by \(request.actor)", actor: request.by) { () async throws -> DrillReport in
            try await drill(request, cfg: cfg, env: env)
        }
    }

    private func drill(_ request: DrillRequest, cfg: SlipwayConfig, env: EnvironmentConfig) async throws(SlipwayError) -> DrillReport {
        let service = try service(for: env)
        let started = Date()
        let log = service.logFile("drill", BackupManifest.newID(environment: env.name, at: started))
        let serving = try store.environment(env.name).currentRelease
        let shared = cfg.sharedDirectory(env.name)
        if let point = request.point {
            // The continuous archive to a point; its RPO is measured: how far the archive was behind when the drill began
            // (a source not archiving now: as far behind as the point it restored to).
            guard !service.settings.continuousSources.isEmpty else { throw .usage("\(env.name) has no continuous source to drill (backup.continuous)") }
            let p = try resolve(BackupRestoreRequest(BackupRestoreBody(id: "", source: nil, to: nil, point: point, environment: env.name), actor: request.actor),
                                environment: env.name)
            let lags = service.settings.continuousSources.map { s in board.statuses.first { $0.environment == env.name && $0.source == s.name }?.lagSeconds }
            let run = try await runDrill(env, release: serving ?? context.releases.list().last?.version, service: service, log: log) { () async throws(SlipwayError) in
                try await service.drillPoint(time: p.time, sharedDirectory: shared, launcher: router.executable, log: log)
            }
            let reached = run.reached ?? started
            let rpo = lags.contains(nil) ? started.timeIntervalSince(reached) : lags.compactMap { $0 }.max() ?? 0
            return try finishDrill(request, env: env, service: service, label: "continuous " + p.label, createdAt: reached, rpo: Int(max(0, rpo).rounded(.up)),
                                   started: started, log: log, run: run)
        }
        guard let backup = try store.data.backups(environment: env.name).first else {
            throw .notFound("'\(env.name)' has no backup to drill; take one first: slipway backup create --env \(env.name)")
        }
        let release = serving ?? backup.releaseVersion.flatMap { context.releases.info($0) == nil ? nil : $0 } ?? context.releases.list().last?.version
        let run = try await runDrill(env, release: release, service: service, log: log) { () async throws(SlipwayError) in
            (try await service.drillRestore(backup.manifest, locations: backup.locations, sharedDirectory: shared, log: log), nil)
        }
        return try finishDrill(request, env: env, service: service, label: backup.id, createdAt: backup.createdAt,
                               rpo: max(0, Int(started.timeIntervalSince(backup.createdAt))), started: started, log: log, run: run)
    }

    /// What a drill's restore and app start gave.
    struct DrillRun {
        var release: String?
        var phases: [DrillReport.Phase] = []
        var checks: [RestoreCheck] = []
        var message: String?
        /// A drill to a point: the oldest point a source reached.
        var reached: Date?
    }

    /// Restores into scratch, starts `release` on it when the data passed its checks, cleans up.
    func runDrill(_ env: EnvironmentConfig, release: String?, service: BackupService, log: String,
                  restore: () async throws(SlipwayError) -> (DrillRestore, Date?)) async throws(SlipwayError) -> DrillRun {
        var run = DrillRun(release: release)
        do throws(SlipwayError) {
            let (restored, reached) = try await restore()
            run.reached = reached
            run.phases = restored.phases
            run.checks = restored.checks
            if !run.checks.allSatisfy(\.ok) {
                run.message = "the restored data failed its integrity check; the app was not started"
            } else if let release {
                let (appPhases, failure) = await drillStart(env, release: release, restored: restored, log: log)
                run.phases += appPhases
                run.message = failure
            }
            await service.cleanUp(restored, log: log)
        } catch {
            run.message = "the restore failed: \(error.message)" + (error.cause.map { " (\($0))" } ?? "")
        }
        return run
    }

    /// Saves, records and audits a drill's report.
    func finishDrill(_ request: DrillRequest, env: EnvironmentConfig, service: BackupService, label: String, createdAt: Date, rpo: Int, started: Date,
                     log: String, run: DrillRun) throws(SlipwayError) -> DrillReport {
        let (release, phases, checks, message) = (run.release, run.phases, run.checks, run.message)
        var report = DrillReport(environment: env.name, backupId: label, backupCreatedAt: createdAt, release: release, startedAt: started,
                                 phases: phases, rpoSeconds: rpo, rtoTarget: service.settings.rtoTarget, rpoTarget: service.settings.rpoTarget,
                                 checks: checks, message: message, logFile: log)
        report.id = try store.data.saveDrill(report)
        try store.record(Event(environment: env.name, payload: .drill(.init(backupId: label, ok: report.ok, rtoMs: report.rtoMs, rpoSeconds: rpo,
                                                                        message: message))))
        let summary = "RTO \(String(format: "%.1f", Double(report.rtoMs) / 1000))s, RPO \(rpo)s from \(label)"
            + (report.rtoMet == false ? "; RTO target missed" : "") + (report.rpoMet == false ? "; RPO target missed" : "")
        try store.audit(request.by, action: "drill", target: env.name, outcome: report.ok ? "ok" : "failed", detail: message.map { "\(summary): \($0)" } ?? summary)
        logger.info("drill finished", metadata: ["drill.env": "\(env.name)", "drill.ok": "\(report.ok)", "drill.rto_ms": "\(report.rtoMs)", "drill.rpo_s": "\(rpo)"])
        return report
    }

    public func drills(environment: String?) throws(SlipwayError) -> [DrillReport] {
        if let environment { _ = try config.environment(environment) }
        return try store.data.drills(environment: environment)
    }

    /// Starts `release` on the drill's scratch data; times "app_start" (until it answers HTTP at all) and
    /// "health" (until the readiness check passes), then stops it. Returns the phases and a failure, if any.
    func drillStart(_ env: EnvironmentConfig, release: String, restored: DrillRestore, log: String) async -> ([DrillReport.Phase], String?) {
        let child: ProcessSpawner.Spawned
        let port: Int
        let began = ContinuousClock.now
        do throws(SlipwayError) {
            port = try PortAllocator.freePort()
            var vars = try await context.supervisor.environment(app: config.app, env: env, release: release, slot: 0, port: port)
            vars["SLIPWAY_SHARED"] = restored.sharedDirectory
            vars["SLIPWAY_INSTANCE"] = "\(env.name)-\(release)-drill"
            vars["SLIPWAY_DRILL"] = "1"
            for (k, v) in restored.environment { vars[k] = v }
            // A process, or for an image release a container of its image with the scratch data mounted.
            child = try await context.supervisor.spawnRelease(env.process, key: "process", release: release, name: [env.name, release, "drill"],
                                                              environment: vars, logFile: log)
        } catch {
            return ([], "cannot start \(release): \(error.message)")
        }
        let result = await drillProbe(env.health, release: release, pid: child.pid, port: port, since: began, log: log)
        let runtime = await context.supervisor.containerRuntime(of: release)
        _ = await context.supervisor.stopStarted(pid: child.pid, startTime: child.startTime, container: runtime.map { ($0, [env.name, release, "drill"]) },
                                                 timeout: env.process.stopTimeout)
        return result
    }

    /// Times "app_start" (until the instance answers HTTP at all) and "health" (until its readiness check passes).
    func drillProbe(_ settings: HealthSettings, release: String, pid: Int32, port: Int, since: ContinuousClock.Instant,
                    log: String) async -> ([DrillReport.Phase], String?) {
        var phases: [DrillReport.Phase] = []
        var began = since
        let deadline = began + settings.deadline
        let client = MiniHTTPClient()
        var answered = false
        while ContinuousClock.now < deadline {
            if let status = ProcessInspector.reap(pid) {
                return (phases, "\(release) exited with status \(status) on the restored data; see \(log)")
            }
            if (try? await client.request("GET", .tcp(host: "127.0.0.1", port: port), path: settings.path, timeout: settings.timeout)) != nil {
                answered = true
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        phases.append(.init(name: "app_start", ms: Int((ContinuousClock.now - began).milliseconds), detail: "\(release) (pid \(pid)) answering on port \(port)"))
        guard answered else { return (phases, "\(release) did not answer on port \(port) within \(DurationParsing.format(settings.deadline)); see \(log)") }
        began = ContinuousClock.now
        var gate = settings
        gate.deadline = max(.milliseconds(1), deadline - ContinuousClock.now)
        let prober = HealthProber()
        let outcome = (try? await HealthGate(clock: ContinuousClock(), settings: gate).run(instances: 1) { _ in
            await prober.probe(port: port, path: settings.path, timeout: settings.timeout)
        }) ?? .expired(lastResults: [])
        let last: String
        switch outcome {
        case .ready: last = "\(settings.path) ready"
        case .expired(let results): last = results.first?.detail ?? "no answer"
        }
        phases.append(.init(name: "health", ms: Int((ContinuousClock.now - began).milliseconds), detail: last))
        guard outcome == .ready else { return (phases, "\(release) was not healthy on the restored data within \(DurationParsing.format(settings.deadline)): \(last)") }
        return (phases, nil)
    }
}
