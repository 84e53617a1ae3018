import Foundation
import SlipwayBackup
import SlipwayCore
import SlipwayStore

/// A restore from the continuous archive (`slipway backup restore --latest | --to-time T`): each continuous SQLite
/// source of the environment (or `--source`) built as it was at the point, checked, then put in place the way a
/// backup's restore does (renamed over the file when nothing has it open, else copied into it through SQLite's
/// backup API in one transaction) or written to `--to`.
extension Backups {
    func restorePoint(_ request: BackupRestoreRequest) async throws(SlipwayError) -> RestoreReport {
        let point = request.point ?? "latest"
        let time: Date?
        if point == "latest" { time = nil } else {
            guard let t = Self.parseTime(point) else { throw .usage("--to-time: expected a time like 2026-12-06T10:15:02Z, got '\(point)'") }
            time = t
        }
        let env = try config.environment(request.environment)
        let settings = try self.settings(env)
        let sources = settings.continuousSources.filter { request.source == nil || $0.name == request.source }
        guard !sources.isEmpty else {
            throw .usage("\(env.name) has no continuous source\(request.source.map { " named \($0)" } ?? "") (backup.continuous, sqlite sources)")
        }
        if request.to != nil, sources.count > 1 { throw .usage("--to takes one source: add --source") }
        let service = try self.service(for: env)
        let label = time.map { "point " + ISO8601DateFormatter().string(from: $0) } ?? "latest"
        return try await audited(request, label: label, environment: env.name, target: request.to ?? "in place") { () async throws(SlipwayError) -> [String] in
            try await place(sources, service: service, time: time, to: request.to)
        }
    }

    /// Builds each source at the point and puts it at `to` (relative to the root) or in place; what was restored, for people.
    func place(_ sources: [BackupSourceConfig], service: BackupService, time: Date?, to: String?) async throws(SlipwayError) -> [String] {
        var done: [String] = []
        for source in sources {
            guard case .sqlite(let path) = source.kind else { continue }
            let built = "\(config.root)/backups/scratch/point-\(source.name)-\(UUID().uuidString.prefix(8)).sqlite"
            defer { try? FileManager.default.removeItem(atPath: built) }
            let r = try await service.pointInTime(source: source.name, time: time, output: built)
            let target = to.map { $0.hasPrefix("/") ? $0 : config.root + "/" + $0 } ?? path
            try await SourceArchiver.placeSQLite(built, at: target)
            done.append("\(source.name) at \(ISO8601DateFormatter().string(from: r.point)) (\(r.transactions) transaction(s) after generation \(r.generation))")
        }
        return done
    }

    /// `2026-12-06T10:15:02Z`, with fractional seconds or an offset too.
    static func parseTime(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s)
    }
}
