import Foundation

/// The Prometheus text exposition format (0.0.4): families with HELP and TYPE, escaped label values.
public struct PrometheusText: Sendable {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    public typealias Labels = [(String, String)]
    public private(set) var text = ""

    public init() {}

    public mutating func family(_ name: String, _ type: String, _ help: String, _ samples: [(Labels, Double)]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for (labels, value) in samples { line(name, labels, value) }
    }

    /// A histogram from observations: cumulative `_bucket` lines (with `+Inf`), `_sum` and `_count`, per label set.
    public mutating func histogram(_ name: String, _ help: String, buckets: [Double], _ series: [(Labels, [Double])]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (labels, values) in series {
            for b in buckets { line(name + "_bucket", labels + [("le", Self.format(b))], Double(values.filter { $0 <= b }.count)) }
            line(name + "_bucket", labels + [("le", "+Inf")], Double(values.count))
            line(name + "_sum", labels, values.reduce(0, +))
            line(name + "_count", labels, Double(values.count))
        }
    }

    private mutating func line(_ name: String, _ labels: Labels, _ value: Double) {
        let l = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        text += "\(name)\(l) \(Self.format(value))\n"
    }

    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    public static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(format: "%.6g", v)
    }
}
