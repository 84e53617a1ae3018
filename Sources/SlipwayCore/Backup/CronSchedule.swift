import Foundation

/// A five-field cron expression (minute hour day-of-month month day-of-week) evaluated in a time zone.
/// Fields take `*`, numbers, ranges `a-b`, lists `a,b` and steps `*/n` or `a-b/n`; day-of-week 0 and 7 are Sunday.
/// As in Vixie cron, when both day fields are restricted a day matching either one fires.
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    public let expression: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    public var description: String { expression }

    /// Parses `expression`; the error says which field is wrong and what was expected.
    public init(parsing expression: String) throws(SlipwayError) {
        let fields = expression.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw .usage("expected 5 cron fields (minute hour day-of-month month day-of-week), got \(fields.count) in '\(expression)'")
        }
        self.expression = expression
        minutes = try Self.field(fields[0], "minute", 0...59)
        hours = try Self.field(fields[1], "hour", 0...23)
        days = try Self.field(fields[2], "day-of-month", 1...31)
        months = try Self.field(Self.numbered(fields[3], Self.monthNames, from: 1), "month", 1...12)
        weekdays = Set(try Self.field(Self.numbered(fields[4], Self.dayNames, from: 0), "day-of-week", 0...7).map { $0 % 7 })
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
    }

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// `fri` → `5`, `mon-fri` → `1-5`, `jan,jul` → `1,7` (names are case-insensitive, as in crontab).
    static func numbered(_ text: String, _ names: [String], from first: Int) -> String {
        var out = text.lowercased()
        for (i, n) in names.enumerated() { out = out.replacingOccurrences(of: n, with: String(first + i)) }
        return out
    }

    static func field(_ text: String, _ name: String, _ range: ClosedRange<Int>) throws(SlipwayError) -> Set<Int> {
        var out = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw bad(text, name, range) }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s > 0 else { throw bad(text, name, range) }
                step = s
            }
            var lo = range.lowerBound, hi = range.upperBound
            if pieces[0] != "*" {
                let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2, let a = Int(bounds[0]), let b = Int(bounds.count == 2 ? bounds[1] : bounds[0]),
                    range.contains(a), range.contains(b), a <= b
                else { throw bad(text, name, range) }
                lo = a
                hi = (bounds.count == 1 && pieces.count == 2) ? range.upperBound : b
            }
            out.formUnion(stride(from: lo, through: hi, by: step))
        }
        return out
    }

    static func bad(_ text: String, _ name: String, _ range: ClosedRange<Int>) -> SlipwayError {
        .usage("cron \(name) field '\(text)' is not valid; expected *, a number from \(range.lowerBound) to \(range.upperBound)"
               + (name == "day-of-week" ? " or mon … sun" : name == "month" ? " or jan … dec" : "") + ", a-b, lists with ',' and steps with '/'")
    }

    /// The first minute strictly after `date` that matches, in `zone`. Local times that a DST change
    /// skips do not exist and never fire; a repeated hour fires once.
    public func next(after date: Date, in zone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var t = calendar.dateInterval(of: .minute, for: date)!.end
        let limit = date.addingTimeInterval(5 * 366 * 86_400)
        let s = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let startKey = DateComponents(year: s.year, month: s.month, day: s.day, hour: s.hour, minute: s.minute)
        while t < limit {
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: t)
            guard months.contains(c.month!) else {
                t = calendar.nextDate(after: t, matching: DateComponents(day: 1, hour: 0, minute: 0), matchingPolicy: .nextTime) ?? limit
                continue
            }
            guard dayMatches(day: c.day!, weekday: c.weekday! - 1) else {
                t = calendar.nextDate(after: t, matching: DateComponents(hour: 0, minute: 0), matchingPolicy: .nextTime) ?? limit
                continue
            }
            guard hours.contains(c.hour!) else {
                t = calendar.dateInterval(of: .hour, for: t)!.end
                continue
            }
            if minutes.contains(c.minute!) {
                let key = DateComponents(year: c.year, month: c.month, day: c.day, hour: c.hour, minute: c.minute)
                if key != startKey { return t }
            }
            t = t.addingTimeInterval(60)
        }
        return nil
    }

    func dayMatches(day: Int, weekday: Int) -> Bool {
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): days.contains(day) || weekdays.contains(weekday)
        case (true, false): days.contains(day)
        case (false, true): weekdays.contains(weekday)
        case (false, false): true
        }
    }
}
