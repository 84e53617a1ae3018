import Foundation
import SlipwayCore

extension BackupService {
    /// A drill of the continuous archive: each continuous source restored to `time` (nil: everything archived) into
    /// scratch as a point restore would (SQLite built from its snapshot and segments; PostgreSQL recovered in a scratch
    /// server and copied into a scratch database on the same server), each phase timed. Returns the restore (as a
    /// backup's drill has it) and the oldest point a source reached (nil: none had a transaction after its base).
    public func drillPoint(time: Date?, sharedDirectory: String, launcher: String?, log: String) async throws(SlipwayError) -> (DrillRestore, Date?) {
        let ctx = try context(staging: "\(workDirectory)/scratch", log: log)
        let dir = "\(ctx.scratch)/\(SourceArchiver.scratchName("drill"))"
        var result = DrillRestore(phases: [], checks: [], sharedDirectory: dir + "/shared", environment: [:], databases: [], directory: dir)
        var ms: [String: Double] = [:], details: [String: [String]] = [:]
        var points: [Date] = []
        do throws(SlipwayError) {
            try DirectoryArchiver.makeDirectory(result.sharedDirectory)
            for source in settings.continuousSources {
                switch source.kind {
                case .sqlite(let path):
                    let target = scratchPath(path, shared: sharedDirectory, drill: result)
                    try DirectoryArchiver.makeDirectory((target as NSString).deletingLastPathComponent)
                    let began = ContinuousClock.now
                    let r = try await pointInTime(source: source.name, time: time, output: target)
                    ms["recover", default: 0] += (ContinuousClock.now - began).seconds
                    details["recover", default: []].append("\(source.name): \(r.transactions) transaction(s) after generation \(r.generation)")
                    points.append(r.point)
                    result.checks.append(RestoreCheck(source: source.name, ok: true, detail: "built to \(ISO8601DateFormatter().string(from: r.point)); SQLite's quick_check ok"))
                case .postgres(let secret):
                    let scratch = try await scratchPostgres(secret, into: &result, context: ctx)
                    let r = try await pointInTimePostgres(source: source.name, urlSecret: secret, time: time, inclusive: true, to: scratch.fullURL, launcher: launcher)
                    for (phase, s) in r.phases { ms[phase, default: 0] += s }
                    details["recover", default: []].append("\(source.name): base \(r.base), \(r.segments) WAL segment(s)")
                    if let p = r.point { points.append(p) }
                    let counts = PostgresArchiver.parseCounts(try await PostgresArchiver.psqlLines(scratch, PostgresArchiver.countQuery, context: ctx))
                    result.checks.append(RestoreCheck(source: source.name, ok: true, detail: "\(counts.count) table(s), \(counts.values.reduce(0, +)) row(s)",
                                                      rowCounts: counts))
                case .mysql, .directory:
                    continue
                }
            }
        } catch {
            await cleanUp(result, log: log)
            throw error
        }
        for name in ["fetch", "recover", "copy"] where ms[name] != nil {
            result.phases.append(.init(name: name, ms: Int((ms[name] ?? 0) * 1000), detail: (details[name] ?? []).joined(separator: "; ")))
        }
        return (result, points.min())
    }
}
