import Foundation

/// The last few minutes of each release's traffic, one point per alert pass (every 2 s), from the router's
/// 10-second window: what the dashboard's charts draw. In memory only; a daemon restart starts it afresh.
public struct TrafficHistory: Sendable {
    public struct Point: Codable, Sendable, Equatable {
        public var time: Date
        public var rps: Double
        /// 5xx and failed requests over all requests (nil with no request in the window).
        public var errorRate: Double?
        public var p50Ms: Double?
        public var p95Ms: Double?
        public var p99Ms: Double?

        enum CodingKeys: String, CodingKey {
            case time, rps
            case errorRate = "error_rate", p50Ms = "p50_ms", p95Ms = "p95_ms", p99Ms = "p99_ms"
        }
    }

    public var keep: TimeInterval
    /// environment → release → points, oldest first.
    public private(set) var points: [String: [String: [Point]]] = [:]

    public init(keep: TimeInterval = 300) { self.keep = keep }

    public mutating func record(_ report: RouterStatsReport, now: Date) {
        for (environment, pools) in report {
            for (release, pool) in pools {
                guard let w = pool.windows["10s"] else { continue }
                let bad = w.responses5xx + w.failed + w.upstreamErrors
                let point = Point(time: now, rps: Double(w.requests) / 10, errorRate: w.requests > 0 ? Double(bad) / Double(w.requests) : nil,
                                  p50Ms: w.requests > 0 ? w.p50Ms : nil, p95Ms: w.requests > 0 ? w.p95Ms : nil, p99Ms: w.requests > 0 ? w.p99Ms : nil)
                points[environment, default: [:]][release, default: []].append(point)
            }
        }
        let cutoff = now.addingTimeInterval(-keep)
        for (environment, releases) in points {
            for (release, series) in releases {
                let kept = series.drop { $0.time < cutoff }
                points[environment]?[release] = kept.isEmpty ? nil : Array(kept)
            }
            if points[environment]?.isEmpty == true { points[environment] = nil }
        }
    }
}
