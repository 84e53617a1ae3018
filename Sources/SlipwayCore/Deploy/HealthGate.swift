/// Counts consecutive probe results into a ready / not-ready verdict, with hysteresis.
public struct ReadinessTracker: Sendable, Equatable {
    public let healthyThreshold: Int
    public let unhealthyThreshold: Int
    public private(set) var isReady: Bool
    public private(set) var consecutiveSuccesses = 0
    public private(set) var consecutiveFailures = 0

    public init(healthyThreshold: Int, unhealthyThreshold: Int, initiallyReady: Bool = false) {
        self.healthyThreshold = healthyThreshold
        self.unhealthyThreshold = unhealthyThreshold
        self.isReady = initiallyReady
    }

    /// Records one probe; returns true when the verdict changed.
    @discardableResult
    public mutating func record(success: Bool) -> Bool {
        if success {
            consecutiveSuccesses += 1
            consecutiveFailures = 0
            if !isReady, consecutiveSuccesses >= healthyThreshold { isReady = true; return true }
        } else {
            consecutiveFailures += 1
            consecutiveSuccesses = 0
            if isReady, consecutiveFailures >= unhealthyThreshold { isReady = false; return true }
        }
        return false
    }
}

public struct ProbeResult: Sendable, Equatable {
    public var success: Bool
    /// What the instance answered, for the user: "503 Service Unavailable: not ready" or "connection refused".
    public var detail: String
    public init(success: Bool, detail: String) {
        self.success = success
        self.detail = detail
    }
}

public enum GateOutcome: Sendable, Equatable {
    case ready
    /// Not every instance became ready by the deadline; `lastResults` has each instance's last answer.
    case expired(lastResults: [ProbeResult])
}

/// Probes every new instance each `interval` until all are ready or `deadline` passes.
/// The clock is injected so tests run the whole gate instantly.
public struct HealthGate<C: Clock>: Sendable where C.Duration == Duration {
    public let clock: C
    public let settings: HealthSettings

    public init(clock: C, settings: HealthSettings) {
        self.clock = clock
        self.settings = settings
    }

    public func run(instances: Int, probe: @Sendable (Int) async -> ProbeResult) async throws -> GateOutcome {
        let deadline = clock.now.advanced(by: settings.deadline)
        var trackers = Array(repeating: ReadinessTracker(healthyThreshold: settings.healthyThreshold,
                                                         unhealthyThreshold: settings.unhealthyThreshold),
                             count: instances)
        var last = Array(repeating: ProbeResult(success: false, detail: "not probed yet"), count: instances)
        while true {
            try Task.checkCancellation()
            for i in 0..<instances where !trackers[i].isReady {
                let result = await probe(i)
                last[i] = result
                trackers[i].record(success: result.success)
            }
            if trackers.allSatisfy(\.isReady) { return .ready }
            if clock.now >= deadline { return .expired(lastResults: last) }
            let next = clock.now.advanced(by: settings.interval)
            try await clock.sleep(until: next < deadline ? next : deadline, tolerance: nil)
        }
    }
}
