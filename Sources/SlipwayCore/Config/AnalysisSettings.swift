/// `analysis:`: the rules that judge a new release from live traffic (canary steps, the post-deploy
/// watch), checked every `interval`; request-based rules hold until a window has `min_requests`.
public struct AnalysisSettings: Sendable, Equatable {
    public var interval: Duration
    public var minRequests: Int
    public var rules: [Rule]
    public init(interval: Duration = .seconds(1), minRequests: Int = 200, rules: [Rule] = []) {
        self.interval = interval
        self.minRequests = minRequests
        self.rules = rules
    }
}
