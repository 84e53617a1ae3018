/// `analysis:`: the rules that judge a new release from live traffic (canary steps, the post-deploy
/// watch), checked every `interval`; request-based rules hold until a window has `min_requests`.
public struct AnalysisSettings: Sendable, Equatable {
    public var interval: Duration
    public var minRequests: Int
    public var rules: [Rule]
    /// External signals (Prometheus queries, web checks), judged every interval beside the rules.
    public var providers: [ProviderSettings]
    public init(interval: Duration = .seconds(1), minRequests: Int = 200, rules: [Rule] = [], providers: [ProviderSettings] = []) {
        self.interval = interval
        self.minRequests = minRequests
        self.rules = rules
        self.providers = providers
    }
}
