import Foundation
import SlipwayCore

/// The router's live stats in the Prometheus text format (version 0.0.4): totals as counters, in-flight
/// requests and open connections as gauges, and each sliding window's request count, error ratio and
/// latency percentiles as gauges labelled `window` ("10s", "1m", "5m").
public enum RouterMetrics {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    /// One line of a metric family: its labels (name, value) and its value.
    typealias Sample = (labels: [(String, String)], value: Double)

    public static func render(_ report: RouterStatsReport, held: [String: Int] = [:]) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [Sample]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for s in samples {
                let labels = s.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
                out += "\(name){\(labels)} \(format(s.value))\n"
            }
        }
        let pools = report.sorted { $0.key < $1.key }.flatMap { listener, pools in
            pools.sorted { $0.key < $1.key }.map { (listener: listener, pool: $0.key, stats: $0.value) }
        }
        func each(_ value: (PoolStatsSnapshot) -> Int) -> [Sample] {
            pools.map { ([("listener", $0.listener), ("pool", $0.pool)], Double(value($0.stats))) }
        }
        family("slipway_router_requests_total", "counter", "Requests routed to the pool.", each(\.requests))
        var responses: [Sample] = []
        for p in pools {
            for (cls, n) in [("2xx", p.stats.responses2xx), ("3xx", p.stats.responses3xx), ("4xx", p.stats.responses4xx), ("5xx", p.stats.responses5xx)] {
                responses.append(([("listener", p.listener), ("pool", p.pool), ("class", cls)], Double(n)))
            }
        }
        family("slipway_router_responses_total", "counter", "Responses sent to clients, by status class.", responses)
        family("slipway_router_upstream_errors_total", "counter", "Instances that refused, timed out, broke off or answered garbage.", each(\.upstreamErrors))
        family("slipway_router_inflight_requests", "gauge", "Requests in progress.", each(\.inflight))
        family("slipway_router_upstream_connections", "gauge", "Open connections from the router to the pool's instances.", each(\.connections))
        family("slipway_router_backpressure_pauses_total", "counter", "Times reading from an instance paused because the client was slower.",
               each(\.backpressurePauses))
        var windowRequests: [Sample] = []
        var errorRatio: [Sample] = []
        var latency: [Sample] = []
        for p in pools {
            for name in ["10s", "1m", "5m"] {
                guard let w = p.stats.windows[name] else { continue }
                let labels = [("listener", p.listener), ("pool", p.pool), ("window", name)]
                windowRequests.append((labels, Double(w.requests)))
                errorRatio.append((labels, w.errorRate))
                for (q, ms) in [("0.5", w.p50Ms), ("0.9", w.p90Ms), ("0.99", w.p99Ms), ("1", w.maxMs)] {
                    latency.append((labels + [("quantile", q)], ms / 1000))
                }
            }
        }
        family("slipway_router_window_requests", "gauge", "Requests that ended within the sliding window.", windowRequests)
        family("slipway_router_window_error_ratio", "gauge", "5xx answers and failed requests over all requests in the window.", errorRatio)
        family("slipway_router_window_latency_seconds", "gauge", "Latency percentiles (HdrHistogram) over the window; quantile 1 is the maximum.", latency)
        family("slipway_router_held_requests", "gauge", "Requests a paused listener holds.",
               held.sorted { $0.key < $1.key }.map { ([("listener", $0.key)], Double($0.value)) })
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}
