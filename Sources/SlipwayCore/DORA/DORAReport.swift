import Foundation

/// The four keys of the DORA research (as Four Keys computes them) and the rework rate, for one
/// environment and period, each with its performance tier and the deployments it was computed from.
public struct DORAReport: Codable, Sendable, Equatable {
    public enum Tier: String, Codable, Sendable { case elite, high, medium, low }

    public struct Metric: Codable, Sendable, Equatable {
        /// nil when nothing in the period measures it (no deployments, no incidents).
        public var value: Double?
        public var unit: String
        public var tier: Tier?
        /// Daily, weekly, monthly or yearly (deployment frequency only).
        public var bucket: String?
        /// The deployments (ids) the value was computed from.
        public var deployments: [Int64]
        public var detail: String
        public init(value: Double?, unit: String, tier: Tier?, bucket: String? = nil, deployments: [Int64], detail: String) {
            self.value = value
            self.unit = unit
            self.tier = tier
            self.bucket = bucket
            self.deployments = deployments
            self.detail = detail
        }
    }

    public var environment: String
    public var from: Date
    public var to: Date
    public var deploymentFrequency: Metric
    public var leadTime: Metric
    public var changeFailureRate: Metric
    public var recoveryTime: Metric
    public var reworkRate: Metric

    enum CodingKeys: String, CodingKey {
        case environment, from, to
        case deploymentFrequency = "deployment_frequency", leadTime = "lead_time", changeFailureRate = "change_failure_rate"
        case recoveryTime = "recovery_time", reworkRate = "rework_rate"
    }
}
