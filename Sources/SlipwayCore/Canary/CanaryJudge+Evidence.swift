extension CanaryJudge {
    /// The evidence a restart must not lose: each sequential test's state (by rule index) and the step's
    /// accepted rules and starting counts. Saved beside the canary (`environments.canary_evidence`) with every analysis.
    public struct Evidence: Codable, Sendable, Equatable {
        /// The canary deployment it belongs to (the engine sets it; the judge does not know deployments).
        public var deploymentId: Int64?
        public var step: Int
        public var stepStart: RequestCounts
        public var accepted: [Int]
        public var tests: [String: ErrorRateTest.State]
        enum CodingKeys: String, CodingKey {
            case step, accepted, tests
            case stepStart = "step_start", deploymentId = "deployment_id"
        }
    }
}
