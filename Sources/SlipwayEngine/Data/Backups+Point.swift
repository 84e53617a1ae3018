import Foundation
import SlipwayBackup
import SlipwayCore
import SlipwayStore

/// A restore from the continuous archive (`slipway backup restore --latest | --to-time T | --before-deployment N`):
/// each continuous source of the environment (or `--source`) built as it was at the point and put in place the way a
/// backup's restore does. SQLite: built from its snapshot and segments, checked, renamed over the file when nothing
/// has it open, else copied into it through SQLite's backup API in one transaction. PostgreSQL: recovered in a scratch
/// server and copied into the live database in one transaction (`PostgresPointRestore`). `--to` writes elsewhere.
extension Backups {
    /// Where a point restore goes: a time (nil: everything archived), whether a commit exactly then is kept, a label.
    struct Point {
        var time: Date?
        var inclusive: Bool
        var label: String
    }

    func restorePoint(_ request: BackupRestoreRequest) async throws(SlipwayError) -> RestoreReport {
        let env = try config.environment(request.environment)
        let point = try resolve(request, environment: env.name)
        let sources = try pointSources(request, env)
        if request.to != nil, sources.count > 1 { throw .usage("--to takes one source: add --source") }
        let service = try self.service(for: env)
        return try await audited(request, label: point.label, environment: env.name, target: Self.shown(request.to)) { () async throws(SlipwayError) -> [String] in
            try await place(sources, service: service, point: point, to: request.to)
        }
    }

    /// The continuous sources a point restore of `env` takes: all, or `--source`'s; a usage error when there is none.
    func pointSources(_ request: BackupRestoreRequest, _ env: EnvironmentConfig) throws(SlipwayError) -> [BackupSourceConfig] {
        let sources = try settings(env).continuousSources.filter { request.source == nil || $0.name == request.source }
        guard !sources.isEmpty else {
            throw .usage("\(env.name) has no continuous source\(request.source.map { " named \($0)" } ?? "") (backup.continuous, sqlite and postgres sources)")
        }
        return sources
    }

    /// The point a request names: `--before-deployment N` is the moment deployment N began migrating (when it had
    /// no migration, when it began), exclusive; `--to-time T` inclusive; `--latest` everything archived.
    func resolve(_ request: BackupRestoreRequest, environment: String) throws(SlipwayError) -> Point {
        let iso = ISO8601DateFormatter()
        if let id = request.beforeDeployment {
            guard let d = try store.deployment(id) else { throw .notFound("no deployment \(id); slipway history lists them") }
            guard d.environment == environment else { throw .usage("deployment \(id) is of \(d.environment), not \(environment): add --env \(d.environment)") }
            let events = try store.events(deployment: id)
            let began = events.first { $0.state == .migrating }?.time ?? events.first?.time ?? d.startedAt
            return Point(time: began, inclusive: false, label: "point before deployment \(id) (\(iso.string(from: began)))")
        }
        let point = request.point ?? "latest"
        guard point != "latest" else { return Point(time: nil, inclusive: true, label: "latest") }
        guard let t = Self.parseTime(point) else { throw .usage("--to-time: expected a time like 2026-12-06T10:15:02Z, got '\(point)'") }
        return Point(time: t, inclusive: true, label: "point " + iso.string(from: t))
    }

    /// Builds each source at the point and puts it at `to` (a path relative to the root for SQLite, a database URL for
    /// PostgreSQL) or in place; what was restored, for people.
    func place(_ sources: [BackupSourceConfig], service: BackupService, point: Point, to: String?) async throws(SlipwayError) -> [String] {
        let iso = ISO8601DateFormatter()
        var done: [String] = []
        for source in sources {
            switch source.kind {
            case .sqlite(let path):
                let built = "\(config.root)/backups/scratch/point-\(source.name)-\(UUID().uuidString.prefix(8)).sqlite"
                defer { try? FileManager.default.removeItem(atPath: built) }
                // SQLite's entries carry the time they were seen committed: exclusive means strictly before.
                let time = point.inclusive ? point.time : point.time.map { $0.addingTimeInterval(-0.000_001) }
                let r = try await service.pointInTime(source: source.name, time: time, output: built)
                let target = to.map { $0.hasPrefix("/") ? $0 : config.root + "/" + $0 } ?? path
                try await SourceArchiver.placeSQLite(built, at: target)
                done.append("\(source.name) at \(iso.string(from: r.point)) (\(r.transactions) transaction(s) after generation \(r.generation))")
            case .postgres(let secret):
                let r = try await service.pointInTimePostgres(source: source.name, urlSecret: secret, time: point.time, inclusive: point.inclusive, to: to,
                                                              launcher: router.executable)
                let at = r.point.map { "its last transaction committed at \(iso.string(from: $0))" } ?? "no transaction after the base"
                let phases = ["fetch", "recover", "copy"].compactMap { p in r.phases[p].map { "\(p) \(String(format: "%.1f", $0)) s" } }.joined(separator: ", ")
                done.append("\(source.name): \(at) (base \(r.base), \(r.segments) WAL segment(s); \(phases))"
                            + (r.reachedTarget ? "" : "; the archive ends before the point: everything archived was restored"))
            case .mysql, .directory:
                continue
            }
        }
        return done
    }

    /// `backup verify --continuous`: every continuous source of `environment` (nil: of every environment) checked in every store.
    func verifyContinuous(_ environment: String?, cfg: SlipwayConfig) async throws(SlipwayError) -> [VerifyReport] {
        var names = cfg.environmentNames
        if let environment { names = [try cfg.environment(environment).name] }
        var reports: [VerifyReport] = []
        for name in names {
            guard let env = cfg.environments[name], let settings = env.backup, !settings.continuousSources.isEmpty else { continue }
            let service = try self.service(for: env)
            for source in settings.continuousSources {
                var report = await service.verifyContinuous(source)
                report.id = "\(name) " + report.id
                reports.append(report)
            }
        }
        guard !reports.isEmpty else { throw .usage("no environment\(environment.map { " named \($0)" } ?? "") has a continuous source (backup.continuous)") }
        return reports
    }

    /// `2026-12-06T10:15:02Z`, with fractional seconds or an offset too.
    static func parseTime(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s)
    }
}
