import Foundation

/// Small line charts drawn on the server as inline SVG: no script needed to read them. Each series is a list
/// of (time, value) points; gaps (nil) break the line. The chart carries a text summary for screen readers.
public struct SVGChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(time: Date, value: Double?)]
        /// A CSS class (colour comes from the stylesheet, so dark mode changes it).
        public var style: String

        public init(name: String, points: [(time: Date, value: Double?)], style: String) {
            self.name = name
            self.points = points
            self.style = style
        }
    }

    public var title: String
    public var unit: String
    public var width: Int = 240
    public var height: Int = 56
    public var series: [Series]
    /// The time span drawn (the newest point sits at the right edge).
    public var span: TimeInterval = 300

    public init(title: String, unit: String, series: [Series], width: Int = 240, height: Int = 56, span: TimeInterval = 300) {
        self.title = title
        self.unit = unit
        self.series = series
        self.width = width
        self.height = height
        self.span = span
    }

    public func render(now: Date) -> String {
        let values = series.flatMap { $0.points.compactMap(\.value) }
        let top = max(values.max() ?? 0, unit == "%" ? 0.05 : 1) * 1.1
        let left = now.addingTimeInterval(-span)
        func x(_ t: Date) -> Double { max(0, min(Double(width), t.timeIntervalSince(left) / span * Double(width))) }
        func y(_ v: Double) -> Double { Double(height) - v / top * Double(height - 4) - 2 }
        var lines: [String] = []
        for s in series {
            var runs: [[String]] = [[]]
            for p in s.points where p.time >= left {
                guard let v = p.value else { runs.append([]); continue }
                runs[runs.count - 1].append(String(format: "%.1f,%.1f", x(p.time), y(v)))
            }
            for run in runs where !run.isEmpty {
                let points = run.count == 1 ? run + run : run
                lines.append("<polyline class=\"\(Self.escape(s.style))\" fill=\"none\" points=\"\(points.joined(separator: " "))\"/>")
            }
        }
        let latest = series.map { s -> String in
            let last = s.points.last(where: { $0.value != nil })?.value
            return "\(s.name) " + (last.map { format($0) } ?? "no data")
        }.joined(separator: ", ")
        let label = "\(title): \(latest) (last \(Self.spanText(span)))"
        let ceiling = format(top / 1.1)
        return """
            <svg class="chart" role="img" aria-label="\(Self.escape(label))" viewBox="0 0 \(width) \(height)" width="\(width)" height="\(height)" \
            preserveAspectRatio="none"><title>\(Self.escape(label))</title>\
            <line class="axis" x1="0" y1="\(height - 1)" x2="\(width)" y2="\(height - 1)"/>\
            <text class="scale" x="2" y="10">\(Self.escape(ceiling))</text>\(lines.joined())</svg>
            """
    }

    func format(_ v: Double) -> String {
        switch unit {
        case "%": return String(format: "%.1f%%", v * 100)
        case "ms": return String(format: "%.0f ms", v)
        case "/s": return String(format: "%.1f/s", v)
        case "/day": return String(format: "%.2f/day", v)
        case "s": return Dashboard.duration(v)
        default: return String(format: "%.2f", v)
        }
    }

    /// "5 min", "36 h", "12 weeks".
    static func spanText(_ span: TimeInterval) -> String {
        if span < 5400 { return "\(Int(span / 60)) min" }
        if span < 172_800 { return "\(Int(span / 3600)) h" }
        if span < 30 * 86_400 { return "\(Int(span / 86_400)) days" }
        return "\(Int((span / (7 * 86_400)).rounded())) weeks"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
