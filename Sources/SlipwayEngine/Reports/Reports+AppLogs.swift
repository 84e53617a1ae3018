import Foundation
import Logging
import SlipwayCore
import SlipwayStore

extension Reports {
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
}
