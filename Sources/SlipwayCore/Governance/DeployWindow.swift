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
