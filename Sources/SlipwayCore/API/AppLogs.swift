import Foundation

/// The instances' own output (`slipway logs --app`): lines tagged with release and slot, and where to read
/// on from (`cursor`, opaque: pass it back to get only what came since).
public struct AppLogPage: Codable, Sendable, Equatable {
    public struct Line: Codable, Sendable, Equatable {
        public var release: String
        public var slot: Int
        public var text: String
        /// The process type (`web` for the routed instances).
        public var type: String?
        public init(release: String, slot: Int, text: String, type: String? = nil) {
            self.release = release
            self.slot = slot
            self.text = text
            self.type = type
        }
    }
    public var lines: [Line]
    public var cursor: String
    public init(lines: [Line], cursor: String) {
        self.lines = lines
        self.cursor = cursor
    }

    /// Per log file, the offset read up to, as URL-safe base64 of JSON.
    public static func encodeCursor(_ offsets: [String: UInt64]) throws(SlipwayError) -> String {
        let data = try SlipwayJSON.encode(offsets, with: JSONEncoder(), what: "the log cursor")
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    public static func decodeCursor(_ text: String) -> [String: UInt64]? {
        var b = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        guard let data = Data(base64Encoded: b) else { return nil }
        return try? JSONDecoder().decode([String: UInt64].self, from: data)
    }
}
