import Foundation
import Logging
import SlipwayBackup
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// An environment's backups: taken (on demand, on a schedule, before a deploy), listed, verified, restored,
/// pruned by retention and rescanned from the stores. It owns the `backups` index; what a deployment does
/// with data (backup before deploy, migrations, `rollback --with-data`) and drills use it from the engine.
public struct Backups: Sendable, FeatureObject {
    let context: EngineContext
    /// Held down while an in-place restore replaces the environment's files.
    let accessories: Accessories
    let processTypes: ProcessTypes
    /// Holds the environment's requests while an in-place restore puts data back.
    let maintenance: Maintenance
    /// The continuous archivers' statuses (a drill to a point measures its RPO from their lag).
    let board: ContinuousBoard

    /// The backup service of an environment; a usage error when it has no `backup:` section.
    func service(for env: EnvironmentConfig) throws(SlipwayError) -> BackupService {
        let settings = try self.settings(env)
        let values = try Secrets(root: config.root).resolve(settings.secretNames, environment: env.name)
        return try BackupService(app: config.app, environment: env.name, settings: settings, secrets: values, root: config.root)
    }

    /// The environment's `backup:` section; a usage error when it has none.
    func settings(_ env: EnvironmentConfig) throws(SlipwayError) -> BackupSettings {
        guard let settings = env.backup else {
            throw .usage("environment '\(env.name)' has no backup section in \(config.file); add backup.sources and backup.stores")
        }
        return settings
    }

    func releaseStamp(_ env: String) -> BackupManifest.Release? {
        guard let current = try? store.environment(env).currentRelease else { return nil }
        let info = context.releases.info(current)
        return BackupManifest.Release(version: current, digest: info?.digest, gitCommit: info?.gitCommit)
    }

    /// Takes a backup of `env` now and records it in the index.
    func take(_ env: EnvironmentConfig, reason: String, deploymentId: Int64? = nil, beforeDeployOf: String? = nil,
                    only: String? = nil, actor: Principal) async throws(SlipwayError) -> BackupInfo {
        let service = try self.service(for: env)
        let began = ContinuousClock.now
        let created: BackupService.Created
        do {
            created = try await service.create(reason: reason, release: releaseStamp(env.name), deploymentId: deploymentId,
                                               beforeDeployOf: beforeDeployOf, only: only)
        } catch {
            try store.audit(actor, action: "backup.create", target: env.name, outcome: "failed", detail: error.message)
            try store.record(Event(environment: env.name, deploymentId: deploymentId,
                               payload: .backup(.init(change: .failed, backupId: nil, reason: reason, ok: false, detail: error.message))))
            throw error
        }
        let info = BackupInfo(manifest: created.manifest, locations: created.locations)
        try store.data.saveBackup(info)
        try store.record(Event(environment: env.name, deploymentId: deploymentId,
                           payload: .backup(.init(change: .created, backupId: info.id, reason: reason, bytes: info.size, ok: true,
                                                  detail: "\(info.size) bytes → \(created.locations.joined(separator: ", "))"))))
        try store.audit(actor, action: "backup.create", target: env.name, outcome: "ok",
                    detail: "\(info.id) (\(reason), \(info.size) bytes, \(created.locations.joined(separator: ", ")))")
        logger.info("backup taken", metadata: ["backup.id": "\(info.id)", "backup.reason": "\(reason)", "backup.bytes": "\(info.size)",
                                               "backup.seconds": "\(String(format: "%.2f", (ContinuousClock.now - began).seconds))"])
        return info
    }

    public func create(_ request: BackupCreateRequest) async throws(SlipwayError) -> BackupInfo {
        let cfg = try await context.reloadConfig()
        let env = try cfg.environment(request.environment)
        return try await context.withLease(env.name, holder: "backup by \(request.actor)", actor: request.by) { () async throws -> BackupInfo in
            try await take(env, reason: "manual", only: request.source, actor: request.by)
        }
    }

    public func list(environment: String?) throws(SlipwayError) -> [BackupInfo] {
        if let environment { _ = try config.environment(environment) }
        return try store.data.backups(environment: environment)
    }

    func record(_ id: String) throws(SlipwayError) -> (BackupInfo, EnvironmentConfig) {
        guard let info = try store.data.backup(id) else { throw .notFound("no backup \(id); slipway backup list shows them") }
        guard let env = config.environments[info.environment] else {
            throw .usage("backup \(id) belongs to environment '\(info.environment)', which \(config.file) no longer defines")
        }
        return (info, env)
    }

    public func verify(_ request: BackupVerifyRequest) async throws(SlipwayError) -> [VerifyReport] {
        let cfg = try await context.reloadConfig()
        if request.continuous == true { return try await verifyContinuous(request.environment, cfg: cfg) }
        var targets: [BackupInfo]
        if let id = request.id { targets = [try record(id).0] } else {
            if let e = request.environment { _ = try cfg.environment(e) }
            targets = try store.data.backups(environment: request.environment)
        }
        var reports: [VerifyReport] = []
        for info in targets {
            guard let env = cfg.environments[info.environment] else { continue }
            let service = try self.service(for: env)
            let report = try await service.verify(info.manifest, locations: info.locations, restoreTest: request.restoreTest)
            try store.data.recordVerification(info.id, ok: report.ok)
            try store.record(Event(environment: info.environment, payload: .backup(.init(change: .verified, backupId: info.id, ok: report.ok,
                                                                                     detail: report.ok ? "checksums match" : "verification failed"))))
            let bad = (report.files.filter { !$0.ok }.map(\.detail) + report.restores.filter { !$0.ok }.map(\.detail)).joined(separator: "; ")
            try store.audit(request.by, action: "backup.verify", target: info.id, outcome: report.ok ? "ok" : "failed",
                        detail: request.restoreTest ? "with restore test" + (bad.isEmpty ? "" : ": " + bad) : bad)
            reports.append(report)
        }
        return reports
    }

    public func restore(_ request: BackupRestoreRequest) async throws(SlipwayError) -> RestoreReport {
        _ = try await context.reloadConfig()
        if request.point != nil || request.beforeDeployment != nil { return try await restorePoint(request) }
        let (info, env) = try record(request.id)
        let service = try self.service(for: env)
        var target = RestoreTarget.inPlace
        if let to = request.to { target = to.contains("://") ? .url(to) : .path(to.hasPrefix("/") ? to : config.root + "/" + to) }
        return try await audited(request, label: info.id, environment: env.name, target: Self.shown(request.to)) { () async throws(SlipwayError) -> [String] in
            if target == .inPlace { return try await restoreInPlace(env, info, only: request.source, with: service) }
            return try await service.restore(info.manifest, locations: info.locations, only: request.source, to: target)
        }
    }
}

extension Backups {
    /// Where a restore writes, for output and the audit: a database URL without its password.
    static func shown(_ to: String?) -> String {
        to.map { $0.contains("://") ? (try? DatabaseURL(parsing: $0, secret: "--to").redacted) ?? "a database" : $0 } ?? "in place"
    }

    /// Runs a restore of `label` (a backup's id, or a point of the continuous archive) into `target` ("in place", or where):
    /// in place it passes the policy, holds the environment's lease (it changes what the running release reads) and
    /// holds its new requests meanwhile (maintenance `paused`, lifted when it ends, whatever the outcome); the outcome
    /// is audited either way, and timed.
    func audited(_ request: BackupRestoreRequest, label: String, environment: String, target: String,
                 _ body: () async throws(SlipwayError) -> [String]) async throws(SlipwayError) -> RestoreReport {
        let began = ContinuousClock.now
        do {
            let sources: [String]
            if request.to == nil {
                try context.admit(PolicyRequest(operation: .restore, environment: environment, actor: request.by))
                sources = try await context.withLease(environment, holder: "restore of \(label) by \(request.actor)", actor: request.by) {
                    () async throws(SlipwayError) -> [String] in
                    try await holdingRequests(environment, label: label, body)
                }
            } else {
                sources = try await body()
            }
            let ms = Int((ContinuousClock.now - began).seconds * 1000)
            try store.audit(request.by, action: "backup.restore", target: label, outcome: "ok", detail: "\(sources.joined(separator: ", ")) → \(target)")
            return RestoreReport(id: label, sources: sources, target: target, durationMs: ms)
        } catch {
            try store.audit(request.by, action: "backup.restore", target: label, outcome: "failed", detail: error.message)
            throw error
        }
    }

    /// Runs `body` with `environment`'s new requests held (an operator's maintenance mode already on is left as it is).
    /// A hold the router could not be given is logged and the restore goes on, as before holds existed.
    func holdingRequests(_ environment: String, label: String, _ body: () async throws(SlipwayError) -> [String]) async throws(SlipwayError) -> [String] {
        var held = false
        do {
            held = try await maintenance.hold(environment, holder: Maintenance.restoreHolder, detail: "requests held while \(label) is restored") == nil
        } catch {
            logger.warning("restoring without holding requests", metadata: ["environment": "\(environment)", "error": "\(error.message)"])
        }
        let result: Result<[String], SlipwayError>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        if held { await maintenance.release(environment, holder: Maintenance.restoreHolder, detail: "held requests released: the restore of \(label) ended") }
        return try result.get()
    }

    /// Restores `backup` over the environment's live data. Files replaced under an accessory (its data lives in
    /// shared/<env>/) are replaced with the environment's accessories held down, started again after; the unrouted
    /// process types are held down through any in-place restore (ProcessTypes+Hold).
    /// `made`: the environment's service, when the caller has it already.
    func restoreInPlace(_ env: EnvironmentConfig, _ backup: BackupInfo, only: String?, with made: BackupService? = nil) async throws(SlipwayError) -> [String] {
        let service: BackupService
        if let made { service = made } else { service = try self.service(for: env) }
        let files = (env.backup?.sources ?? []).contains { s in
            guard only == nil || only == s.name else { return false }
            switch s.kind {
            case .postgres, .mysql: return false
            case .sqlite, .directory: return true
            }
        }
        let holding = files && !env.accessories.isEmpty
        if holding { _ = await accessories.hold(env.name) }
        if !env.processTypes.isEmpty { await processTypes.hold(env.name) }
        do {
            let restored = try await service.restore(backup.manifest, locations: backup.locations, only: only, to: .inPlace)
            if holding { await accessories.release(env.name) }
            await processTypes.release(env.name)
            return restored
        } catch {
            if holding { await accessories.release(env.name) }
            await processTypes.release(env.name)
            throw error
        }
    }

    /// Applies retention: decides per backup, removes the rest from every store (unless `dryRun`).
    public func prune(_ request: BackupPruneRequest, now: Date = Date()) async throws(SlipwayError) -> [PruneReport] {
        let cfg = try await context.reloadConfig()
        let names = Self.environments(cfg, only: request.environment)
        var reports: [PruneReport] = []
        for name in names {
            let env = try cfg.environment(name)
            let service = try self.service(for: env)
            let all = try store.data.backups(environment: name)
            let decisions = try retentionPlan(all, settings: service.settings, environment: name)
            var removed: [String] = []
            if !request.dryRun {
                for d in decisions where !d.keep {
                    guard let info = all.first(where: { $0.id == d.id }) else { continue }
                    let failures = await service.remove(info.manifest, locations: info.locations)
                    if failures.isEmpty {
                        try store.data.deleteBackup(info.id)
                        removed.append(info.id)
                        try store.record(Event(environment: name, payload: .backup(.init(change: .pruned, backupId: info.id, ok: true,
                                                                                     detail: d.reasons.joined(separator: "; ")))))
                    } else {
                        logger.warning("backup not fully removed", metadata: ["backup.id": "\(info.id)", "error": "\(failures.joined(separator: "; "))"])
                    }
                }
                try store.audit(request.by, action: "backup.prune", target: name, outcome: "ok",
                            detail: removed.isEmpty ? "nothing to remove" : "removed \(removed.joined(separator: ", "))")
            }
            let byID = Dictionary(all.map { ($0.id, $0.createdAt) }) { first, _ in first }
            reports.append(PruneReport(environment: name, dryRun: request.dryRun,
                                       decisions: decisions.map { PruneDecision(id: $0.id, createdAt: byID[$0.id] ?? now, keep: $0.keep, reasons: $0.reasons) },
                                       removed: removed))
        }
        return reports
    }

    /// What retention decides for each backup now, newest first (`backup prune --dry-run`, the dashboard's backups page).
    /// `backups`: the environment's backups when the caller has read them already.
    public func retention(environment name: String, backups: [BackupInfo]? = nil) throws(SlipwayError) -> [PruneDecision] {
        guard let settings = config.environments[name]?.backup else { return [] }
        let all: [BackupInfo]
        if let backups { all = backups } else { all = try store.data.backups(environment: name) }
        let byID = Dictionary(all.map { ($0.id, $0.createdAt) }) { first, _ in first }
        return try retentionPlan(all, settings: settings, environment: name).map {
            PruneDecision(id: $0.id, createdAt: byID[$0.id] ?? Date(), keep: $0.keep, reasons: $0.reasons)
        }
    }

    func retentionPlan(_ all: [BackupInfo], settings: BackupSettings, environment name: String) throws(SlipwayError) -> [Retention.Decision] {
        Retention.plan(all.map { Retention.Item(id: $0.id, time: $0.createdAt) }, policy: settings.retention, timeZone: settings.timezone,
                       protected: try protectedBackups(all, environment: name))
    }

    /// The environments a backup-wide command covers: the one named, or every one with a `backup:` section.
    static func environments(_ cfg: SlipwayConfig, only: String?) -> [String] {
        only.map { [$0] } ?? cfg.environmentNames.filter { cfg.environments[$0]?.backup != nil }
    }

    /// Backups retention must never remove: the newest verified one, and those taken before the
    /// deploys of the current and previous releases (what `rollback --with-data` needs).
    func protectedBackups(_ all: [BackupInfo], environment: String) throws(SlipwayError) -> [String: String] {
        var out: [String: String] = [:]
        if let v = all.first(where: { $0.verifyOk == true }) { out[v.id] = "newest verified backup" }
        let record = try store.environment(environment)
        for (release, label) in [(record.currentRelease, "current"), (record.previousRelease, "previous")] {
            guard let release, let b = all.first(where: { $0.beforeDeployOf == release }) else { continue }
            out[b.id] = "taken before the deploy of the \(label) release \(release)"
        }
        return out
    }
}

extension Backups {
    /// Reconciles the index with the stores: imports backups only the stores know (a new machine, a lost
    /// state.db), records where each copy is now, and forgets backups no store holds — only when every
    /// store could be read.
    public func rescan(_ request: BackupRescanRequest) async throws(SlipwayError) -> [RescanReport] {
        let cfg = try await context.reloadConfig()
        let names = Self.environments(cfg, only: request.environment)
        var reports: [RescanReport] = []
        for name in names {
            let service = try self.service(for: try cfg.environment(name))
            let (found, failures) = await service.scan()
            let known = Dictionary(try store.data.backups(environment: name).map { ($0.id, $0) }) { first, _ in first }
            var report = RescanReport(environment: name, imported: [], updated: [], forgotten: [], errors: failures)
            for (manifest, locations) in found {
                if var info = known[manifest.id] {
                    guard Set(info.locations) != Set(locations) else { continue }
                    info.locations = locations
                    try store.data.saveBackup(info)
                    report.updated.append(manifest.id)
                } else {
                    try store.data.saveBackup(BackupInfo(manifest: manifest, locations: locations))
                    report.imported.append(manifest.id)
                }
            }
            if failures.isEmpty {
                let present = Set(found.map(\.manifest.id))
                for id in known.keys.sorted() where !present.contains(id) {
                    try store.data.deleteBackup(id)
                    report.forgotten.append(id)
                }
            }
            let summary = "imported \(report.imported.count), updated \(report.updated.count), forgotten \(report.forgotten.count)"
            try store.audit(request.by, action: "backup.rescan", target: name, outcome: failures.isEmpty ? "ok" : "partial",
                        detail: failures.isEmpty ? summary : "\(summary); unreadable: \(failures.joined(separator: "; "))")
            reports.append(report)
        }
        return reports
    }
}
