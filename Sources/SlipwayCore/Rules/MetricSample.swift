import Foundation

/// What analysis sees of one release over one window: from the router's per-pool stats and /proc.
/// Nil means not measured (no memory limit set, no provider), and a rule on it holds.
public struct MetricSample: Sendable, Equatable {
    public var requests: Int
    /// Requests answered 5xx or failed upstream, within `requests`.
    public var errors: Int
    /// Latency by quantile (50, 90, 99, 99.9 …), in seconds.
    public var latency: [Double: Double]
    public var rps: Double?
    public var memoryBytes: Double?
    public var memoryLimit: Double?
    public var cpu: Double?
    /// Counters since the release started; rules compare their increase.
    public var restarts: Int
    public var healthFailures: Int
    /// An external provider's number.
    public var value: Double?
    /// Seconds since the last successful backup; free share of the root's filesystem (alerts).
    public var backupAge: Double?
    public var diskFree: Double?

    public init(requests: Int = 0, errors: Int = 0, latency: [Double: Double] = [:], rps: Double? = nil, memoryBytes: Double? = nil,
                memoryLimit: Double? = nil, cpu: Double? = nil, restarts: Int = 0, healthFailures: Int = 0, value: Double? = nil) {
        self.requests = requests
        self.errors = errors
        self.latency = latency
        self.rps = rps
        self.memoryBytes = memoryBytes
        self.memoryLimit = memoryLimit
        self.cpu = cpu
        self.restarts = restarts
        self.healthFailures = healthFailures
        self.value = value
    }

    public var errorRate: Double? { requests > 0 ? Double(errors) / Double(requests) : nil }

    /// The metric's value, or nil when it is not measured here.
    func value(of metric: Rule.Metric) -> Double? {
        switch metric {
        case .errorRate: errorRate
        case .latency(let q): latency[q]
        case .rps: rps
        case .memory: memoryBytes.flatMap { bytes in memoryLimit.flatMap { $0 > 0 ? bytes / $0 : nil } }
        case .memoryBytes: memoryBytes
        case .cpu: cpu
        case .restarts: Double(restarts)
        case .healthFailures: Double(healthFailures)
        case .value: value
        case .backupAge: backupAge
        case .diskFree: diskFree
        }
    }
}
