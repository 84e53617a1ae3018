import Foundation

/// One rule of the analysis language: `error_rate > baseline + 1%`, `p99_latency > 1.5 * baseline`,
/// `error_rate > 5% for 10s`, `health_failures > 3 in 10m`. Shared by canary analysis, the post-deploy
/// watch and (later) alert rules. Pure values; `RuleParser` reads them, `RuleEvaluator` judges them.
public struct Rule: Sendable, Equatable, CustomStringConvertible {
    public var metric: Metric
    public var comparison: Comparison
    public var threshold: Threshold
    /// `for D`: the condition must hold for D without a break before the rule fires.
    public var sustained: Duration?
    /// `in D`: the metric is the increase of a counter over the last D (restarts, health failures).
    public var window: Duration?
    /// The text as written (for messages and evidence).
    public var text: String

    public init(metric: Metric, comparison: Comparison, threshold: Threshold, sustained: Duration? = nil, window: Duration? = nil, text: String) {
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.sustained = sustained
        self.window = window
        self.text = text
    }

    public var description: String { text }

    public enum Metric: Sendable, Equatable, Hashable, CustomStringConvertible {
        /// Share of requests answered 5xx or failed upstream (0…1).
        case errorRate
        /// A latency quantile in seconds: `p99_latency` is `.latency(99)`, `p99.9_latency` `.latency(99.9)`.
        case latency(Double)
        /// Requests per second.
        case rps
        /// Resident memory as a share of `process.memory_limit` (`memory > 90%`).
        case memory
        /// Resident memory in bytes (`memory > 512MiB`).
        case memoryBytes
        /// CPU use, a share of one core (0…1, more with several cores busy).
        case cpu
        /// Instance restarts (a counter).
        case restarts
        /// Failed health probes (a counter).
        case healthFailures
        /// The number an external provider returned.
        case value
        /// Seconds since the environment's last successful backup (alerts).
        case backupAge
        /// Free space of the filesystem holding the root, a share (0…1) (alerts).
        case diskFree

        public var description: String {
            switch self {
            case .errorRate: "error_rate"
            case .latency(let q): "p\(q.truncatingRemainder(dividingBy: 1) == 0 ? String(Int(q)) : String(q))_latency"
            case .rps: "rps"
            case .memory, .memoryBytes: "memory"
            case .cpu: "cpu"
            case .restarts: "restarts"
            case .healthFailures: "health_failures"
            case .value: "value"
            case .backupAge: "backup_age"
            case .diskFree: "disk_free"
            }
        }

        public var isLatency: Bool {
            if case .latency = self { return true }
            return false
        }

        /// Counters are compared as increases (over `in D`, or since the analysis began).
        public var isCounter: Bool { self == .restarts || self == .healthFailures }
        /// Measured over requests: a verdict needs `min_requests` in the window.
        public var needsRequests: Bool {
            switch self {
            case .errorRate, .latency: true
            default: false
            }
        }
    }

    public enum Comparison: String, Sendable, Equatable {
        case greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<="

        public func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .greater: a > b
            case .greaterOrEqual: a >= b
            case .less: a < b
            case .lessOrEqual: a <= b
            }
        }
    }

    /// What the metric is compared with. Quantities are in the metric's base unit: a share (0.05 for
    /// 5%), seconds, bytes, a count.
    public enum Threshold: Sendable, Equatable {
        case absolute(Double)
        /// `baseline + q` (q may be negative): the stable release's value over the same window, plus q.
        case baselinePlus(Double)
        /// `k * baseline` or `baseline * k`.
        case baselineTimes(Double)

        public var needsBaseline: Bool {
            if case .absolute = self { return false }
            return true
        }

        public func value(baseline: Double?) -> Double? {
            switch self {
            case .absolute(let v): v
            case .baselinePlus(let q): baseline.map { $0 + q }
            case .baselineTimes(let k): baseline.map { $0 * k }
            }
        }
    }
}
