import Foundation
import SlipwayCore

/// Which backups to keep, restic's way: `keep_last` newest, plus the newest backup in each of the
/// last N hours/days/weeks/months/years that have one, counted in the configured time zone.
/// The union of all rules is kept, and protected backups are never removed.
public enum Retention {
    public struct Item: Sendable {
        public var id: String
        public var time: Date
        public init(id: String, time: Date) {
            self.id = id
            self.time = time
        }
    }

    public struct Decision: Sendable, Codable, Equatable {
        public var id: String
        public var keep: Bool
        /// Every rule that keeps it ("last 3 of 7", "daily 2024-03-31"), or why it goes.
        public var reasons: [String]
    }

    /// Decides for each item, newest first. `protected` maps ids to why they must stay.
    public static func plan(_ items: [Item], policy: RetentionPolicy, timeZone: TimeZone, protected: [String: String] = [:]) -> [Decision] {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = timeZone
        let sorted = items.sorted { $0.time > $1.time }
        var reasons: [String: [String]] = [:]
        for (i, item) in sorted.enumerated() where i < policy.keepLast {
            reasons[item.id, default: []].append("last \(i + 1) of \(policy.keepLast)")
        }
        let rules: [(name: String, count: Int, key: (Date) -> String)] = [
            ("hourly", policy.keepHourly, { bucket($0, calendar, [.year, .month, .day, .hour], "%04d-%02d-%02d %02d:00") }),
            ("daily", policy.keepDaily, { bucket($0, calendar, [.year, .month, .day], "%04d-%02d-%02d") }),
            ("weekly", policy.keepWeekly, { week($0, calendar) }),
            ("monthly", policy.keepMonthly, { bucket($0, calendar, [.year, .month], "%04d-%02d") }),
            ("yearly", policy.keepYearly, { bucket($0, calendar, [.year], "%04d") }),
        ]
        for rule in rules where rule.count > 0 {
            var left = rule.count
            var lastKey: String?
            for item in sorted where left > 0 {
                let k = rule.key(item.time)
                guard k != lastKey else { continue }
                lastKey = k
                left -= 1
                reasons[item.id, default: []].append("\(rule.name) \(k)")
            }
        }
        for (id, why) in protected { reasons[id, default: []].append(why) }
        return sorted.map { item in
            let why = reasons[item.id] ?? []
            return Decision(id: item.id, keep: !why.isEmpty, reasons: why.isEmpty ? [removalReason(policy)] : why)
        }
    }

    static func bucket(_ date: Date, _ calendar: Calendar, _ units: Set<Calendar.Component>, _ format: String) -> String {
        let c = calendar.dateComponents(units, from: date)
        let values = [c.year, c.month, c.day, c.hour].compactMap { $0 }
        return String(format: format, arguments: values.map { $0 as any CVarArg })
    }

    static func week(_ date: Date, _ calendar: Calendar) -> String {
        let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        return String(format: "%04d-W%02d", c.yearForWeekOfYear ?? 0, c.weekOfYear ?? 0)
    }

    static func removalReason(_ p: RetentionPolicy) -> String {
        var rules: [String] = []
        if p.keepLast > 0 { rules.append("keep_last \(p.keepLast)") }
        if p.keepHourly > 0 { rules.append("keep_hourly \(p.keepHourly)") }
        if p.keepDaily > 0 { rules.append("keep_daily \(p.keepDaily)") }
        if p.keepWeekly > 0 { rules.append("keep_weekly \(p.keepWeekly)") }
        if p.keepMonthly > 0 { rules.append("keep_monthly \(p.keepMonthly)") }
        if p.keepYearly > 0 { rules.append("keep_yearly \(p.keepYearly)") }
        return "no rule keeps it (\(rules.joined(separator: ", ")))"
    }
}
