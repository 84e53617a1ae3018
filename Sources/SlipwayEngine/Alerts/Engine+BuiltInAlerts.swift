import Foundation
import SlipwayCore
import SlipwayStore

extension Engine {
    /// The built-in alerts, from the environment's records: the last backup attempt, the last verification,
    /// the last drill, and automatic rollbacks in the last ten minutes.
    func judgeBuiltIn(_ builtIn: AlertSettings.BuiltIn, env: EnvironmentConfig, now: Date) -> (Bool?, String, String?) {
        switch builtIn {
        case .backupFailed:
            let last = try? store.latestEvents(environment: env.name, types: ["backup.created", "backup.failed"])
            guard let failed = last?["backup.failed"], failed.id > (last?["backup.created"]?.id ?? 0) else {
                return (false, last?["backup.created"] == nil ? "no backup yet" : "the last backup succeeded", nil)
            }
            return (true, "the last backup failed: \(failed.payload.summary)", nil)
        case .verifyFailed:
            guard let checked = (try? store.backups(environment: env.name))?.filter({ $0.verifiedAt != nil }).max(by: { $0.verifiedAt! < $1.verifiedAt! }) else {
                return (false, "no verification yet", nil)
            }
            return checked.verifyOk == false ? (true, "verification of \(checked.id) failed", nil) : (false, "\(checked.id) verified", nil)
        case .drillFailed, .drillOverRTO:
            guard let drill = (try? store.drills(environment: env.name, limit: 1))?.first else { return (false, "no drill yet", nil) }
            if builtIn == .drillOverRTO {
                guard drill.rtoMet == false else { return (false, "the last drill met its RTO", nil) }
                return (true, "the last drill restored in \(drill.rtoMs) ms, over its RTO target of \(drill.rtoTargetMs ?? 0) ms", "\(drill.rtoMs) ms")
            }
            guard !drill.ok, drill.rtoMet != false else { return (false, "the last drill passed", nil) }
            return (true, "the last drill failed: \(drill.message ?? "a check failed")", nil)
        case .automaticRollback:
            let recent = ((try? store.deployments(environment: env.name, limit: 20)) ?? []).filter { d in
                guard let end = d.finishedAt, now.timeIntervalSince(end) < 600 else { return false }
                return d.state == .rolledBack || (d.kind == .rollback && d.actor == "watch" && d.state == .succeeded)
            }
            guard let last = recent.first else { return (false, "no automatic rollback in the last 10 minutes", nil) }
            return (true, "deployment \(last.id) (\(last.kind.rawValue) \(last.version)) was rolled back automatically: \(last.message ?? "")", nil)
        case .crashLoop:
            return (nil, "judged as a rule", nil)
        }
    }

    /// Free share of the filesystem holding `path`.
    nonisolated static func diskFree(_ path: String) -> Double? {
        guard let a = try? FileManager.default.attributesOfFileSystem(forPath: path),
              let free = (a[.systemFreeSize] as? NSNumber)?.doubleValue, let size = (a[.systemSize] as? NSNumber)?.doubleValue, size > 0 else { return nil }
        return free / size
    }
}
