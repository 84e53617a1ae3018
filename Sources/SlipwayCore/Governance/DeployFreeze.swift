import Foundation

/// `freezes:` entry: deploys are refused inside it. One-off (`from`–`to`, local time in `timezone`) or
/// recurring (`cron` starts it, `duration` long).
public struct DeployFreeze: Sendable, Equatable {
    public enum Span: Sendable, Equatable {
        case once(from: Date, to: Date)
        case recurring(CronSchedule, Duration)
    }
    public var name: String
    public var span: Span
    public var timezone: TimeZone

    public init(name: String, span: Span, timezone: TimeZone) {
        self.name = name
        self.span = span
        self.timezone = timezone
    }

    /// When the freeze that holds `date` ends, or nil when `date` is outside it.
    public func activeUntil(_ date: Date) -> Date? {
        switch span {
        case .once(let from, let to):
            return date >= from && date < to ? to : nil
        case .recurring(let cron, let duration):
            // The latest start at or before `date`: the first one after `date - duration`, if not after `date`.
            var t = date.addingTimeInterval(-duration.seconds - 60)
            var end: Date?
            while let start = cron.next(after: t, in: timezone), start <= date {
                let e = start.addingTimeInterval(duration.seconds)
                if date < e { end = max(end ?? e, e) }
                t = start
            }
            return end
        }
    }
}
