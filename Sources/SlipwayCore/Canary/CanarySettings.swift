/// `canary:`: start `instances` of the new release beside the serving one and move traffic to it step by
/// step. Each step sets the canary's weight (or keeps the last one) and pauses for a time, for analysis to
/// have enough evidence, or (`pause: manual`) for `slipway canary promote`. After the last step the release
/// is promoted to 100%. A step that cannot decide within `max_step_duration` aborts ("insufficient traffic").
public struct CanarySettings: Sendable, Equatable {
    public var instances: Int
    public var steps: [CanaryStep]
    public var sticky: StickyRouting?
    public var maxStepDuration: Duration
    /// A GET or HEAD without a body that the canary answers with a 5xx is sent once more, to the stable
    /// release, and the client gets that answer (analysis still counts the canary's failure).
    public var retryOnStable = false

    public init(instances: Int = 1, steps: [CanaryStep] = [CanaryStep(weight: 10), CanaryStep(weight: 50)], sticky: StickyRouting? = nil,
                maxStepDuration: Duration = .seconds(1800)) {
        self.instances = instances
        self.steps = steps
        self.sticky = sticky
        self.maxStepDuration = maxStepDuration
    }

    /// The canary's weight at step `index`: its own, or the last one set before it.
    public func weight(at index: Int) -> Int {
        var w = 0
        for s in steps.prefix(index + 1) { if let x = s.weight { w = x } }
        return w
    }

    /// `5% → 25% → 50% (manual) → 100%`, for messages.
    public var plan: String {
        steps.indices.map { i in
            let s = steps[i]
            let pause: String = switch s.pause {
            case .manual: " (manual)"
            case .duration(let d): " (\(DurationParsing.format(d)))"
            case nil: ""
            }
            return "\(weight(at: i))%\(pause)"
        }.joined(separator: " → ") + " → 100%"
    }
}

public struct CanaryStep: Sendable, Equatable {
    /// The canary's share of new requests (1–99); nil keeps the previous step's.
    public var weight: Int?
    public var pause: Pause?

    public enum Pause: Sendable, Equatable {
        /// Stay at least this long (analysis must also have enough evidence).
        case duration(Duration)
        /// Wait for `slipway canary promote`.
        case manual
    }

    public init(weight: Int? = nil, pause: Pause? = nil) {
        self.weight = weight
        self.pause = pause
    }
}
