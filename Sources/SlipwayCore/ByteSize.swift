import Foundation

/// Sizes in slipway.yml and rules: `512MiB`, `2GiB`, `100MB`, `4096B` (binary and decimal units).
public enum ByteSize {
    public static let units: [String: Double] = ["B": 1, "KiB": 1024, "MiB": 1_048_576, "GiB": 1_073_741_824, "TiB": 1_099_511_627_776,
                                                 "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12]

    public static func parse(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let digits = t.prefix { $0.isNumber || $0 == "." }
        guard let n = Double(digits), let factor = units[String(t.dropFirst(digits.count)).trimmingCharacters(in: .whitespaces)] else { return nil }
        return Int64(n * factor)
    }
}
