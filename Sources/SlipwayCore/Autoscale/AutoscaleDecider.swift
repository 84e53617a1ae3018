import Foundation

/// Decides when to scale. Pure, with the time passed in: each reading says whether the scale-out and
/// scale-in rules hold (nil: not measured, which starts and stops nothing).
public struct AutoscaleDecider: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        case hold
        case scale(to: Int, reason: String)
    }

    public let settings: AutoscaleSettings
    private var outSince: Date?
    private var inSince: Date?
    /// When the count last changed (cooldown counts from here).
    public private(set) var lastChange: Date?

    public init(settings: AutoscaleSettings, lastChange: Date? = nil) {
        self.settings = settings
        self.lastChange = lastChange
    }

    public mutating func observe(out: Bool?, in scaleIn: Bool?, instances: Int, at now: Date) -> Decision {
        func track(_ since: inout Date?, _ holds: Bool?) {
            guard let holds else { return }
            since = holds ? (since ?? now) : nil
        }
        track(&outSince, out)
        track(&inSince, scaleIn)
        let s = settings
        // Outside the bounds (a config change, a manual scale): back inside at once.
        if instances < s.min { return change(to: s.min, "below min \(s.min)", now) }
        if instances > s.max { return change(to: s.max, "above max \(s.max)", now) }
        if let last = lastChange, now.timeIntervalSince(last) < s.cooldown.seconds { return .hold }
        if let o = s.out, let since = outSince, now.timeIntervalSince(since) >= o.holdFor.seconds, instances < s.max {
            return change(to: Swift.min(s.max, instances + o.step), "\(o.rule.text) for \(DurationParsing.format(o.holdFor))", now)
        }
        if let i = s.in, let since = inSince, now.timeIntervalSince(since) >= i.holdFor.seconds, instances > s.min {
            return change(to: Swift.max(s.min, instances - i.step), "\(i.rule.text) for \(DurationParsing.format(i.holdFor))", now)
        }
        return .hold
    }

    private mutating func change(to n: Int, _ why: String, _ now: Date) -> Decision {
        lastChange = now
        outSince = nil
        inSince = nil
        return .scale(to: n, reason: why)
    }
}
