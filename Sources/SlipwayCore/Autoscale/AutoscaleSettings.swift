/// `autoscale:` per environment: the instance count moves within `min…max` when a rule holds long enough,
/// through the same health-gated, audited path as `slipway scale`, at most once per `cooldown`.
public struct AutoscaleSettings: Sendable, Equatable {
    public struct Direction: Sendable, Equatable {
        public var rule: Rule
        public var holdFor: Duration
        public var step: Int
        public init(rule: Rule, holdFor: Duration, step: Int = 1) {
            self.rule = rule
            self.holdFor = holdFor
            self.step = step
        }
    }

    public var min: Int
    public var max: Int
    public var out: Direction?
    public var `in`: Direction?
    public var cooldown: Duration

    public init(min: Int, max: Int, out: Direction? = nil, in: Direction? = nil, cooldown: Duration = .seconds(300)) {
        self.min = min
        self.max = max
        self.out = out
        self.in = `in`
        self.cooldown = cooldown
    }
}
