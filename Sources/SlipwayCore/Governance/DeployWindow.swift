import Foundation

/// `windows:` entry: deploys are allowed on these weekdays between `from` and `to` (local time in
/// `timezone`, `to` exclusive; `to` before `from` crosses midnight).
public struct DeployWindow: Sendable, Equatable, CustomStringConvertible {
    /// Weekdays 1 (Sunday) … 7 (Saturday), as `Calendar` counts them; empty: every day.
    public var days: Set<Int>
    /// Minutes after local midnight.
    public var from: Int
    public var to: Int
    public var timezone: TimeZone

    public init(days: Set<Int>, from: Int, to: Int, timezone: TimeZone) {
        self.days = days
        self.from = from
        self.to = to
        self.timezone = timezone
    }

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public var description: String {
        let d = days.isEmpty ? "every day" : days.sorted().map { Self.dayNames[$0 - 1] }.joined(separator: ",")
        return "\(d) \(Self.clock(from))–\(Self.clock(to)) \(timezone.identifier)"
    }

    static func clock(_ minutes: Int) -> String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }

    func calendar() -> Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = timezone
        return c
    }

    /// Whether `date` falls inside the window (by the wall clock in its time zone).
    public func contains(_ date: Date) -> Bool {
        let c = calendar().dateComponents([.weekday, .hour, .minute], from: date)
        let minute = c.hour! * 60 + c.minute!
        if from <= to {
            return (days.isEmpty || days.contains(c.weekday!)) && minute >= from && minute < to
        }
        // Crossing midnight: the evening belongs to the listed day, the early morning to the day before.
        if minute >= from { return days.isEmpty || days.contains(c.weekday!) }
        let yesterday = c.weekday! == 1 ? 7 : c.weekday! - 1
        return minute < to && (days.isEmpty || days.contains(yesterday))
    }

    /// The next moment at or after `date` when the window is open (searched minute by minute over local
    /// days, so a DST change moves the wall clock, not the rule), or nil within two weeks.
    public func nextOpening(after date: Date) -> Date? {
        if contains(date) { return date }
        let cal = calendar()
        var day = cal.startOfDay(for: date)
        for _ in 0..<15 {
            var c = cal.dateComponents([.year, .month, .day], from: day)
            c.hour = from / 60
            c.minute = from % 60
            if let open = cal.date(from: c), open >= date, contains(open) { return open }
            // A start that a DST change skips (02:30 on the spring-forward day) opens at the next valid minute.
            if let open = cal.date(from: c), open >= date, contains(open.addingTimeInterval(3600)) { return open.addingTimeInterval(3600) }
            day = cal.date(byAdding: .day, value: 1, to: day)!
        }
        return nil
    }
}

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

/// `environments.<env>` governance: windows, freezes, and whether rollbacks pass a freeze.
public struct GovernanceSettings: Sendable, Equatable {
    public var windows: [DeployWindow] = []
    public var freezes: [DeployFreeze] = []
    public var rollbackInFreeze = true
    /// The environment a release must have succeeded in first, and how long it must have stayed there.
    public var promoteFrom: String?
    public var soak: Duration = .zero
    public var approvals: ApprovalSettings?
    public init() {}
}
