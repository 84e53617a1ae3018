import CoreFoundation
import Foundation
import SlipwayCore

/// Appends timestamped lines to a deployment's (or backup's, drill's) log file.
public struct DeployLog: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func write(_ line: String) {
        let data = Data("\(Self.stamp(Date())) \(line)\n".utf8)
        if let h = FileHandle(forWritingAtPath: path) {
            defer { try? h.close() }
            _ = try? h.seekToEnd()
            try? h.write(contentsOf: data)
        } else {
            _ = FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o640])
        }
    }

    /// Cuts the lines stamped before `limit` from a log written by `write` (a log that lives as long as the
    /// daemon). The rest is written to a new file that replaces the old one; nothing happens when no line is that old.
    static func dropLines(of path: String, before limit: Date) throws {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let cut = stamp(limit)
        var keepFrom = data.startIndex
        // Lines are in time order: skip the ones whose stamp sorts before the limit's (same fixed-width format).
        while keepFrom < data.endIndex {
            let end = data[keepFrom...].firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            let line = data[keepFrom..<end]
            guard let stampEnd = line.firstIndex(of: UInt8(ascii: " ")), String(decoding: line[..<stampEnd], as: UTF8.self) < cut else { break }
            keepFrom = end < data.endIndex ? data.index(after: end) : end
        }
        guard keepFrom > data.startIndex else { return }
        let fresh = path + ".trim"
        guard FileManager.default.createFile(atPath: fresh, contents: data[keepFrom...], attributes: [.posixPermissions: 0o640]) else {
            throw SlipwayError(.internal, "cannot write \(fresh)")
        }
        guard rename(fresh, path) == 0 else { throw SlipwayError(.internal, "cannot replace \(path): \(String(cString: strerror(errno)))") }
    }

    /// Moves a log past `bytes` to `<path>.1` (replacing an older one), where it ages out by retention.
    static func roll(_ path: String, over bytes: Int) {
        var info = stat()
        guard stat(path, &info) == 0, Int(info.st_size) > bytes else { return }
        _ = rename(path, path + ".1")
    }

    static func stamp(_ date: Date) -> String {
        ISO8601DateFormatter.string(from: date, timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
    }

    /// `logs/<kind>-YYYYMMDD-HHMMSS-<id>.log`
    public static func name(kind: String, id: Int64, at date: Date, in directory: String) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return "\(directory)/\(kind)-\(f.string(from: date))-\(id).log"
    }
}
