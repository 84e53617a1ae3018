import Foundation

/// Failed authentications per source address: after `limit` failures within `window`, the source is
/// refused (429) until its oldest failure in the window ages out. A state machine with the time passed in.
public struct AuthFailureLimiter: Sendable {
    public let limit: Int
    public let window: TimeInterval
    private var failures: [String: [Date]] = [:]

    public init(limit: Int = 10, window: TimeInterval = 60) {
        self.limit = limit
        self.window = window
    }

    /// When `source` may try again, or nil when it may now.
    public mutating func blockedUntil(_ source: String, now: Date) -> Date? {
        let recent = (failures[source] ?? []).filter { now.timeIntervalSince($0) < window }
        failures[source] = recent.isEmpty ? nil : recent
        guard recent.count >= limit, let oldest = recent.first else { return nil }
        return oldest.addingTimeInterval(window)
    }

    public mutating func fail(_ source: String, now: Date) {
        var recent = (failures[source] ?? []).filter { now.timeIntervalSince($0) < window }
        recent.append(now)
        failures[source] = recent
        // Bound the memory a flood of sources can take.
        if failures.count > 10_000 { failures = failures.filter { now.timeIntervalSince($0.value.last ?? now) < window } }
    }
}
