import Foundation
import Logging
import SlipwayCore
import SlipwayStore

extension Engine {
    /// The last `tail` lines of each instance's log (without a cursor), or what every log gained since
    /// `cursor`, tagged with release and slot. A log that shrank (rotated) is read from its start.
    public func appLogs(environment: String?, release: String?, tail: Int, cursor: String?) throws(SlipwayError) -> AppLogPage {
        let env = try config.environment(environment)
        var files: [String: (release: String, slot: Int)] = [:]
        for i in try store.instances(environment: env.name) where release == nil || i.release == release {
            files[i.logFile] = (i.release, i.slot)
        }
        var offsets = cursor.flatMap(AppLogPage.decodeCursor) ?? [:]
        if cursor != nil, AppLogPage.decodeCursor(cursor ?? "") == nil { throw .usage("the log cursor is not one slipway made") }
        var lines: [AppLogPage.Line] = []
        for (path, who) in files.sorted(by: { ($0.value.release, $0.value.slot) < ($1.value.release, $1.value.slot) }) {
            guard let handle = FileHandle(forReadingAtPath: path) else { continue }
            defer { try? handle.close() }
            let size = (try? handle.seekToEnd()) ?? 0
            var start: UInt64
            if cursor == nil {
                start = size > 256 * 1024 ? size - 256 * 1024 : 0
            } else {
                start = offsets[path] ?? 0
                if start > size { start = 0 }  // rotated (copy-truncate): read the new file from its start
            }
            let length = min(size - start, 1 << 20)
            try? handle.seek(toOffset: start)
            let data = (try? handle.read(upToCount: Int(length))) ?? Data()
            // Only whole lines: a partial last line is read next time.
            guard let lastNewline = data.lastIndex(of: UInt8(ascii: "\n")) else { offsets[path] = start; continue }
            let whole = data[data.startIndex...lastNewline]
            var texts = String(decoding: whole, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            if cursor == nil { texts = Array(texts.suffix(tail)) }
            lines += texts.map { AppLogPage.Line(release: who.release, slot: who.slot, text: $0) }
            offsets[path] = start + UInt64(whole.count)
        }
        return AppLogPage(lines: lines, cursor: try AppLogPage.encodeCursor(offsets))
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
