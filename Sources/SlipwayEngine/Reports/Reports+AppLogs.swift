import Foundation
import Logging
import SlipwayCore
import SlipwayStore

extension Reports {
    /// The last `tail` lines of each instance's log (without a cursor), or what every log gained since
    /// `cursor`, tagged with release and slot. A log that shrank (rotated) is read from its start.
    /// `type`: one process type's output (nil: every type's).
    public func appLogs(environment: String?, release: String?, type: String? = nil, tail: Int, cursor: String?) throws(SlipwayError) -> AppLogPage {
        let env = try config.environment(environment)
        if let type, env.processSettings(type) == nil {
            throw .usage("environment '\(env.name)' has no process type '\(type)' (it has \(([ProcessTypeSettings.web] + env.processTypes.map(\.name)).joined(separator: ", ")))")
        }
        var files: [String: (release: String, slot: Int, type: String)] = [:]
        if type == nil || type == ProcessTypeSettings.web {
            for i in try store.instances(environment: env.name) where release == nil || i.release == release {
                files[i.logFile] = (i.release, i.slot, ProcessTypeSettings.web)
            }
        }
        for w in try store.workers.all(environment: env.name) where (release == nil || w.release == release) && (type == nil || w.type == type) {
            files[w.logFile] = (w.release, w.slot, w.type)
        }
        var offsets = cursor.flatMap(AppLogPage.decodeCursor) ?? [:]
        if cursor != nil, AppLogPage.decodeCursor(cursor ?? "") == nil { throw .usage("the log cursor is not one slipway made") }
        var lines: [AppLogPage.Line] = []
        for (path, who) in files.sorted(by: { ($0.value.release, $0.value.type, $0.value.slot) < ($1.value.release, $1.value.type, $1.value.slot) }) {
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
            lines += texts.map { AppLogPage.Line(release: who.release, slot: who.slot, text: $0, type: who.type) }
            offsets[path] = start + UInt64(whole.count)
        }
        return AppLogPage(lines: lines, cursor: try AppLogPage.encodeCursor(offsets))
    }
}
