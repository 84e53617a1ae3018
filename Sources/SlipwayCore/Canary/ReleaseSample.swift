import Foundation

/// What one host's daemon reports of one release of an environment for a fleet canary (`GET /v1/traffic/releases`):
/// its router's counters since the router started and sliding windows, and its instances' health and resources. The
/// controller adds up the canary hosts' and the other hosts' samples into one `CanaryObservation`.
public struct ReleaseSample: Codable, Sendable, Equatable {
    public var counts: RequestCounts
    public var upstreamErrors: Int
    /// The router's windows by name ("10s", "1m", "5m").
    public var windows: [String: WindowStats]
    public var instances: Int
    public var alive: Int
    public var ready: Int
    public var restarts: Int
    public var healthFailures: Int
    public var memoryBytes: Double?
    public var memoryLimit: Double?
    public var cpu: Double?

    public init(counts: RequestCounts, upstreamErrors: Int = 0, windows: [String: WindowStats] = [:], instances: Int = 1, alive: Int = 1, ready: Int = 1,
                restarts: Int = 0, healthFailures: Int = 0, memoryBytes: Double? = nil, memoryLimit: Double? = nil, cpu: Double? = nil) {
        self.counts = counts
        self.upstreamErrors = upstreamErrors
        self.windows = windows
        self.instances = instances
        self.alive = alive
        self.ready = ready
        self.restarts = restarts
        self.healthFailures = healthFailures
        self.memoryBytes = memoryBytes
        self.memoryLimit = memoryLimit
        self.cpu = cpu
    }

    enum CodingKeys: String, CodingKey {
        case counts, windows, instances, alive, ready, restarts, cpu
        case upstreamErrors = "upstream_errors", healthFailures = "health_failures", memoryBytes = "memory_bytes", memoryLimit = "memory_limit"
    }

    /// The router's windows and their lengths.
    public static let windowSeconds: [(name: String, seconds: Double)] = [("10s", 10), ("1m", 60), ("5m", 300)]

    /// The window `name` as analysis reads it, with this release's resources.
    public func sample(_ name: String, seconds: Double) -> MetricSample {
        var s = windows[name].map { MetricSample($0, seconds: seconds) } ?? MetricSample(rps: 0)
        s.memoryBytes = memoryBytes
        s.memoryLimit = memoryLimit
        s.cpu = cpu
        s.restarts = restarts
        s.healthFailures = healthFailures
        return s
    }
}

extension MetricSample {
    /// A router window as analysis sees it; `seconds` is the window's length (for `rps`).
    public init(_ w: WindowStats, seconds: Double) {
        var latency: [Double: Double] = [50: w.p50Ms / 1000, 90: w.p90Ms / 1000, 99: w.p99Ms / 1000]
        if w.p95Ms > 0 || w.requests == 0 { latency[95] = w.p95Ms / 1000 }
        self.init(requests: w.requests, errors: w.responses5xx + w.failed, latency: latency, rps: Double(w.requests) / seconds)
    }

    /// Several hosts' samples of one side as one: requests, errors, rates and counters add up; latency and resources are
    /// the worst host's (`worst`, the canary's side: one slow canary host is a slow canary) or the requests-weighted mean
    /// (the baseline's side: what the others usually do).
    public static func merged(_ samples: [MetricSample], worst: Bool) -> MetricSample {
        var out = MetricSample(rps: samples.isEmpty ? 0 : samples.reduce(0) { $0 + ($1.rps ?? 0) })
        out.requests = samples.reduce(0) { $0 + $1.requests }
        out.errors = samples.reduce(0) { $0 + $1.errors }
        out.restarts = samples.reduce(0) { $0 + $1.restarts }
        out.healthFailures = samples.reduce(0) { $0 + $1.healthFailures }
        out.memoryLimit = samples.compactMap(\.memoryLimit).first
        func combine(_ values: [(value: Double, weight: Double)]) -> Double? {
            guard !values.isEmpty else { return nil }
            if worst { return values.map(\.value).max() }
            let total = values.reduce(0) { $0 + $1.weight }
            return total > 0 ? values.reduce(0) { $0 + $1.value * $1.weight } / total : values.reduce(0) { $0 + $1.value } / Double(values.count)
        }
        let measured = samples.filter { $0.requests > 0 }
        for q in Set(measured.flatMap(\.latency.keys)) {
            out.latency[q] = combine(measured.compactMap { s in s.latency[q].map { ($0, Double(s.requests)) } })
        }
        out.memoryBytes = combine(samples.compactMap { s in s.memoryBytes.map { ($0, 1) } })
        out.cpu = combine(samples.compactMap { s in s.cpu.map { ($0, 1) } })
        return out
    }
}
