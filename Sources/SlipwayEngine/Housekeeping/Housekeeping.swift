import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// What the daemon keeps and for how long (the `retention` periodic job, hourly): the event log keeps 90
/// days (and always its newest 10,000 events); log files keep `logs.retention`.
public struct Housekeeping: Sendable, FeatureObject {
    let context: EngineContext

    /// How long the event log keeps events (its newest 10,000 stay whatever their age).
    static let eventRetention: Duration = .seconds(90 * 86_400)

    /// The event log keeps 90 days (and always its newest 10,000 events); log files keep `logs.retention`.
    func run(now: Date) {
        do {
            let pruned = try store.pruneEvents(before: now.addingTimeInterval(-Self.eventRetention.seconds))
            if pruned > 0 { logger.info("pruned the event log", metadata: ["events.pruned": "\(pruned)"]) }
        } catch {
            logger.error("cannot prune the event log", metadata: ["error": "\(error)"])
        }
        let removed = pruneLogs(now: now)
        if removed > 0 { logger.info("removed old log files", metadata: ["logs.removed": "\(removed)"]) }
    }

    /// Removes files under `<root>/logs` not written for `logs.retention` (deploy, build, backup, drill and
    /// rotated instance logs; a file still being written is never that old). The notifications' log is written
    /// for the daemon's whole life: its lines older than the retention are cut, and the output of `command`
    /// channels moves to `.1` past 1 MiB, which then ages out like any file. Hourly, from the `retention` periodic job.
    func pruneLogs(now: Date) -> Int {
        let dir = config.logsDirectory
        let limit = now.addingTimeInterval(-config.logRetention.seconds)
        let notifications = dir + "/" + NotificationSender.logName
        do { try DeployLog.dropLines(of: notifications, before: limit) } catch {
            logger.warning("cannot trim the notifications' log", metadata: ["log.file": "\(notifications)", "error": "\(error)"])
        }
        DeployLog.roll(notifications + ".command", over: 1 << 20)
        var removed = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            let path = dir + "/" + name
            guard let a = try? FileManager.default.attributesOfItem(atPath: path), a[.type] as? FileAttributeType == .typeRegular,
                  let modified = a[.modificationDate] as? Date, modified < limit else { continue }
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed += 1 }
        }
        return removed
    }
}
