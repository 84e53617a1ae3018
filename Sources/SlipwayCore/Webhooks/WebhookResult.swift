/// What the daemon did with one delivery: for each hook that matched, the release and the deployment.
public struct WebhookResult: Codable, Sendable, Equatable {
    public struct Action: Codable, Sendable, Equatable {
        public var deployTo: String
        public var version: String
        public var deploymentId: Int64?
        public var state: DeploymentState?
        /// Why no deployment started (a gate refused, the build failed).
        public var error: SlipwayError?
        public init(deployTo: String, version: String, deploymentId: Int64? = nil, state: DeploymentState? = nil, error: SlipwayError? = nil) {
            self.deployTo = deployTo
            self.version = version
            self.deploymentId = deploymentId
            self.state = state
            self.error = error
        }
        enum CodingKeys: String, CodingKey { case deployTo = "deploy_to", version, deploymentId = "deployment_id", state, error }
    }

    public var delivery: String
    public var ref: String?
    public var commit: String?
    /// "ping", "ignored: …", or "matched N hook(s)".
    public var outcome: String
    public var actions: [Action]
    public init(delivery: String, ref: String? = nil, commit: String? = nil, outcome: String, actions: [Action] = []) {
        self.delivery = delivery
        self.ref = ref
        self.commit = commit
        self.outcome = outcome
        self.actions = actions
    }
}
