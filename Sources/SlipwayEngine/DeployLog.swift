import Foundation

/// Appends timestamped lines to a deployment's (or backup's, drill's) log file.
public struct DeployLog: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func write(_ line: String) {
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        let data = Data("\(stamp) \(line)\n".utf8)
        if let h = FileHandle(forWritingAtPath: path) {
            defer { try? h.close() }
            _ = try? h.seekToEnd()
            try? h.write(contentsOf: data)
        } else {
            _ = FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o640])
        }
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
