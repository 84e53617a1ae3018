import Foundation
import SlipwayBackup
import SlipwayCore
import Testing

/// Retention and schedules in a real time zone, across daylight-saving changes (Europe/Berlin:
/// 2026-03-29 02:00 → 03:00, 2026-10-25 03:00 → 02:00).
struct RetentionTests {
    let berlin = TimeZone(identifier: "Europe/Berlin")!

    func at(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    @Test func dailyBucketsFollowLocalDaysAcrossSpringForward() {
        // 23:30 UTC on the 28th is 00:30 local on the 29th: it belongs to the 29th, not the 28th.
        let items = [
            Retention.Item(id: "a", time: at("2026-03-27T22:00:00Z")),  // 27th 23:00 local
            Retention.Item(id: "b", time: at("2026-03-28T10:00:00Z")),  // 28th
            Retention.Item(id: "c", time: at("2026-03-28T22:30:00Z")),  // 28th 23:30 local (UTC+1)
            Retention.Item(id: "d", time: at("2026-03-28T23:30:00Z")),  // 29th 00:30 local
            Retention.Item(id: "e", time: at("2026-03-29T01:30:00Z")),  // 29th 03:30 local (UTC+2, after the jump)
        ]
        let plan = Retention.plan(items, policy: RetentionPolicy(keepLast: 0, keepDaily: 3), timeZone: berlin)
        let kept = plan.filter(\.keep).map(\.id)
        #expect(kept == ["e", "c", "a"], "newest per local day: 29th → e, 28th → c, 27th → a")
        #expect(plan.first { $0.id == "e" }?.reasons == ["daily 2026-03-29"])
        #expect(plan.first { $0.id == "d" }?.keep == false)
        #expect(plan.first { $0.id == "d" }?.reasons.first?.contains("no rule keeps it") == true)
        // The same instants in UTC fall into other days.
        let utc = Retention.plan(items, policy: RetentionPolicy(keepLast: 0, keepDaily: 3), timeZone: TimeZone(identifier: "UTC")!)
        #expect(utc.filter(\.keep).map(\.id) == ["e", "d", "a"])
    }

    @Test func fallBackHourSharesOneWallClockBucket() {
        // 00:30Z and 01:30Z are both 02:30 local (before and after the fall back).
        let items = [
            Retention.Item(id: "first-0230", time: at("2026-10-25T00:30:00Z")),
            Retention.Item(id: "second-0230", time: at("2026-10-25T01:30:00Z")),
            Retention.Item(id: "0330", time: at("2026-10-25T02:30:00Z")),
        ]
        let plan = Retention.plan(items, policy: RetentionPolicy(keepLast: 0, keepHourly: 10), timeZone: berlin)
        // Wall-clock buckets: both 02:30s share the "02:00" bucket; the newest of them is kept.
        #expect(plan.filter(\.keep).map(\.id) == ["0330", "second-0230"])
    }

    @Test func unionOfRulesAndProtection() {
        var items: [Retention.Item] = []
        // One backup a day for 60 days, at 02:00 local.
        for day in 0..<60 {
            items.append(.init(id: "d\(day)", time: at("2026-01-01T01:00:00Z").addingTimeInterval(Double(day) * 86_400)))
        }
        let policy = RetentionPolicy(keepLast: 3, keepDaily: 7, keepWeekly: 4, keepMonthly: 3)
        let plan = Retention.plan(items, policy: policy, timeZone: berlin, protected: ["d2": "taken before the deploy of the current release v7"])
        let kept = Set(plan.filter(\.keep).map(\.id))
        // last 3 ⊂ daily 7; weekly: newest of each of the last 4 ISO weeks; monthly: Mar, Feb, Jan ends.
        #expect(kept.isSuperset(of: ["d59", "d58", "d57", "d56", "d55", "d54", "d53"]))
        #expect(kept.contains("d30"), "newest of January (the 31st) is kept monthly")
        #expect(kept.contains("d2"), "protected")
        #expect(plan.first { $0.id == "d59" }?.reasons.contains("last 1 of 3") == true)
        #expect(kept.count < 20)
        #expect(!kept.contains("d10"))
    }

    @Test func cronNextAcrossDST() throws {
        let daily = try CronSchedule(parsing: "30 2 * * *")
        // Spring forward: 02:30 does not exist on 2026-03-29 local; the next run is 02:30 on the 30th.
        let next = daily.next(after: at("2026-03-28T02:00:00Z"), in: berlin)
        #expect(next == at("2026-03-30T00:30:00Z"))
        // Fall back: 02:30 happens twice on 2026-10-25; it fires once.
        let first = try #require(daily.next(after: at("2026-10-24T12:00:00Z"), in: berlin))
        #expect(first == at("2026-10-25T00:30:00Z"))
        let second = try #require(daily.next(after: first, in: berlin))
        #expect(second == at("2026-10-26T01:30:00Z"))

        let weekly = try CronSchedule(parsing: "30 3 * * 0")
        #expect(weekly.next(after: at("2026-11-23T12:00:00Z"), in: berlin) == at("2026-11-29T02:30:00Z"))
        let steps = try CronSchedule(parsing: "*/15 9-17 * * 1-5")
        #expect(steps.next(after: at("2026-11-21T12:00:00Z"), in: TimeZone(identifier: "UTC")!) == at("2026-11-23T09:00:00Z"))
    }

    @Test(arguments: ["0 2 * *", "61 * * * *", "* 24 * * *", "a * * * *", "*/0 * * * *", "5-1 * * * *"])
    func badCronIsAUsageError(_ text: String) {
        #expect(throws: SlipwayError.self) { try CronSchedule(parsing: text) }
    }
}
