import Foundation

/// One alert's state in one environment: inactive → pending → firing → resolved. Pure: the time is passed
/// in, so tests walk `for` and `keep_firing_for` without waiting.
///
/// - true for `pendingFor` (at once when zero): pending, then firing;
/// - false while pending: inactive again (it never fired);
/// - false while firing: resolved once it has stayed false for `keepFiringFor` (at once when zero);
/// - unknown (not measured, too few requests): nothing changes and no timer starts or stops.
public struct AlertTracker: Codable, Sendable, Equatable {
    public enum Phase: String, Codable, Sendable { case inactive, pending, firing, resolved }

    public var phase: Phase = .inactive
    /// When the current phase began.
    public var since: Date
    /// Since when the condition has been true without a break (pending and firing).
    public var trueSince: Date?
    /// Since when it has been false while firing (for `keep_firing_for`).
    public var falseSince: Date?
    public var firedAt: Date?
    public var resolvedAt: Date?
    /// When a still-firing alert was last announced again (`repeat:`).
    public var repeatedAt: Date?

    public init(since: Date) { self.since = since }

    /// Whether a firing alert is due to be announced again: `every` since it fired or was last repeated.
    public mutating func repeatDue(at now: Date, every: Duration) -> Bool {
        guard phase == .firing, every > .zero, let since = repeatedAt ?? firedAt, now.timeIntervalSince(since) >= every.seconds else { return false }
        repeatedAt = now
        return true
    }

    /// The phase it moved to, if it moved.
    public mutating func observe(_ condition: Bool?, at now: Date, pendingFor: Duration, keepFiringFor: Duration) -> Phase? {
        guard let condition else { return nil }
        let before = phase
        if condition {
            falseSince = nil
            if trueSince == nil { trueSince = now }
            switch phase {
            case .inactive, .resolved:
                phase = pendingFor > .zero ? .pending : .firing
            case .pending:
                break
            case .firing:
                return nil
            }
            if phase == .pending, let t = trueSince, now.timeIntervalSince(t) >= pendingFor.seconds { phase = .firing }
        } else {
            trueSince = nil
            switch phase {
            case .inactive, .resolved:
                return nil
            case .pending:
                phase = .inactive
            case .firing:
                if falseSince == nil { falseSince = now }
                if let f = falseSince, now.timeIntervalSince(f) >= keepFiringFor.seconds { phase = .resolved }
            }
        }
        guard phase != before else { return nil }
        since = now
        if phase == .firing { firedAt = now; resolvedAt = nil; repeatedAt = nil }
        if phase == .resolved { resolvedAt = now; falseSince = nil }
        return phase
    }
}
