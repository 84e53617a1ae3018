/// `hooks:`: commands a deployment runs at fixed points, each an argv (no shell) in the new release's
/// directory with the release's environment and `SLIPWAY_TARGET_URL`, output to the deployment log.
public struct HookSettings: Sendable, Equatable {
    /// After the new instances pass the health gate, before any user request reaches them; its target is
    /// one new instance. Failing it refuses the deploy.
    public var preTraffic: String?
    /// After the switch, while the previous release is still warm; its target is the router. Failing it
    /// rolls back.
    public var postSwitch: String?
    /// A hook still running then is killed and counts as failed.
    public var timeout: Duration

    public init(preTraffic: String? = nil, postSwitch: String? = nil, timeout: Duration = .seconds(300)) {
        self.preTraffic = preTraffic
        self.postSwitch = postSwitch
        self.timeout = timeout
    }
}
