import Foundation
import SlipwayCore
import SlipwayStore

/// `POST /v1/backups/restore/plan`: what a restore request would do, changing nothing (`slipway backup restore` prints
/// it first; `--dry-run` prints only it).
extension Backups {
    public func plan(_ request: BackupRestoreRequest, now: Date = Date()) async throws(SlipwayError) -> RestorePlan {
        _ = try await context.reloadConfig()
        let env: EnvironmentConfig
        let label: String
        let point: Date?
        let sources: [RestorePlan.Source]
        var maxLag: Duration?
        if request.point != nil || request.beforeDeployment != nil {
            env = try config.environment(request.environment)
            let p = try resolve(request, environment: env.name)
            let chosen = try pointSources(request, env)
            let statuses = board.statuses.filter { $0.environment == env.name }
            sources = chosen.map { s in
                let status = statuses.first { $0.source == s.name }
                return .init(name: s.name, kind: s.kind.name, archivedUntil: status?.lastShipped, lagSeconds: status?.lagSeconds)
            }
            (label, point, maxLag) = (p.label, p.time, env.backup?.continuous?.maxLag)
        } else {
            let (info, e) = try record(request.id)
            env = e
            let entries = info.manifest.entries.filter { request.source == nil || $0.source == request.source }
            guard !entries.isEmpty else { throw .usage("backup \(info.id) holds no source named \(request.source ?? "")") }
            sources = entries.map { .init(name: $0.source, kind: $0.kind, archivedUntil: $0.startedAt, lagSeconds: nil) }
            (label, point) = (info.id, entries.map(\.startedAt).min())
        }
        let restored = Set(sources.map(\.name))
        let others = (env.backup?.sources ?? []).filter { !restored.contains($0.name) }.map { RestorePlan.Source(name: $0.name, kind: $0.kind.name, archivedUntil: nil, lagSeconds: nil) }
        var after: [RestorePlan.Deployment] = []
        if let point {
            // Every deployment still going at the point or begun after it (the one a --before-deployment names among them).
            after = try store.deployments(environment: env.name, limit: 500).filter { ($0.finishedAt ?? now) >= point }
                .map { RestorePlan.Deployment(id: $0.id, version: $0.version, startedAt: $0.startedAt) }
        }
        return RestorePlan.make(environment: env.name, label: label, point: point, target: Self.shown(request.to), sources: sources, deployments: after,
                                others: others, maxLag: maxLag, now: now)
    }
}
