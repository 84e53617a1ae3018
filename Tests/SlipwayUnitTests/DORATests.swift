import Foundation
import SlipwayCore
import Testing

/// DORA on a fixture history whose values were worked out by hand (in the comments).
struct DORATests {
    /// 2026-11-02 is a Monday: the period is four whole ISO weeks.
    static func at(_ day: Int, _ hour: Int, _ minute: Int = 0) -> Date {
        var c = DateComponents(year: 2026, month: 11, day: day, hour: hour, minute: minute)
        c.timeZone = TimeZone(identifier: "UTC")
        return Calendar(identifier: .gregorian).date(from: c)!
    }

    static func d(_ id: Int64, _ version: String, _ kind: DeploymentKind = .deploy, _ state: DeploymentState, start: Date, end: Date,
                  previous: String? = nil) -> DeploymentInfo {
        DeploymentInfo(id: id, environment: "production", version: version, previousVersion: previous, kind: kind, strategy: .blueGreen,
                       state: state, actor: "ci", startedAt: start, finishedAt: end, logFile: "")
    }

    @Test func aFixtureHistoryGivesTheHandComputedValues() {
        let deployments = [
            Self.d(1, "v1", .deploy, .succeeded, start: Self.at(2, 9, 55), end: Self.at(2, 10)),       // lead 2h (commit 08:00)
            Self.d(2, "v2", .deploy, .succeeded, start: Self.at(3, 9, 55), end: Self.at(3, 10)),       // lead 24h
            Self.d(3, "v3", .deploy, .rolledBack, start: Self.at(4, 9, 55), end: Self.at(4, 10)),      // a canary reverted: a failure
            Self.d(4, "v4", .deploy, .succeeded, start: Self.at(9, 11, 55), end: Self.at(9, 12)),      // lead 1h; rolled back by #5: a failure
            Self.d(5, "v2", .rollback, .succeeded, start: Self.at(9, 12, 55), end: Self.at(9, 13), previous: "v4"),  // unplanned
            Self.d(6, "v5", .deploy, .failed, start: Self.at(16, 8, 55), end: Self.at(16, 9)),         // recovered by #7 after 2h
            Self.d(7, "v6", .deploy, .succeeded, start: Self.at(16, 10, 55), end: Self.at(16, 11)),    // lead 1h
            Self.d(8, "v7", .deploy, .succeeded, start: Self.at(23, 9, 55), end: Self.at(23, 10)),     // lead 72h; caused incident 1: a failure
            Self.d(9, "v8", .deploy, .succeeded, start: Self.at(23, 11, 15), end: Self.at(23, 11, 20)), // lead 20m; during the incident: unplanned
            Self.d(10, "v9", .deploy, .succeeded, start: Self.at(30, 9), end: Self.at(30, 10)),        // after the period
        ]
        var incident = IncidentInfo(id: 1, environment: "production", title: "errors", severity: .p0, trigger: "alert high-error-rate: …", openedAt: Self.at(23, 11))
        incident.deploymentId = 8
        incident.resolvedAt = Self.at(23, 11, 30)                                                     // recovered after 30m
        let commits = ["v1": Self.at(2, 8), "v2": Self.at(2, 10), "v4": Self.at(9, 11), "v6": Self.at(16, 10), "v7": Self.at(20, 10), "v8": Self.at(23, 11)]
        let r = DORAReport.compute(environment: "production", deployments: deployments.shuffled(), incidents: [incident], commitTimes: commits,
                                   from: Self.at(2, 0), to: Self.at(29, 23, 59))

        // 6 successful deploys in ~28 days; the median week has deploys on 1 day (2, 1, 1, 1): weekly.
        #expect(abs((r.deploymentFrequency.value ?? 0) - 6 / (Self.at(29, 23, 59).timeIntervalSince(Self.at(2, 0)) / 86_400)) < 1e-9)
        #expect(r.deploymentFrequency.bucket == "weekly" && r.deploymentFrequency.tier == .high && r.deploymentFrequency.deployments == [1, 2, 4, 7, 8, 9])
        // Leads 20m, 1h, 1h, 2h, 24h, 72h: the median is 1.5h.
        #expect(r.leadTime.value == 5400 && r.leadTime.tier == .elite)
        // 7 deploys reached traffic (not the failed #6); #3, #4 and #8 failed: 3/7.
        #expect(r.changeFailureRate.value == 3.0 / 7 && r.changeFailureRate.tier == .low && r.changeFailureRate.deployments == [3, 4, 8])
        // Incident 30m, failed #6 → #7 2h: median 75m.
        #expect(r.recoveryTime.value == 4500 && r.recoveryTime.tier == .high)
        // The rollback #5 and the fix #9 of 9 deployments in the period.
        #expect(r.reworkRate.value == 2.0 / 9 && r.reworkRate.tier == .low && r.reworkRate.deployments == [5, 9])
    }

    @Test func anEmptyPeriodMeasuresNothing() {
        let r = DORAReport.compute(environment: "production", deployments: [], incidents: [], commitTimes: [:], from: Self.at(2, 0), to: Self.at(9, 0))
        #expect(r.deploymentFrequency.value == 0 && r.deploymentFrequency.tier == nil)
        #expect(r.leadTime.value == nil && r.changeFailureRate.value == nil && r.recoveryTime.value == nil && r.reworkRate.value == nil)
    }

    @Test func deployingOnMostDaysIsDailyAndElite() {
        var list: [DeploymentInfo] = []
        for day in 2...27 where day % 7 != 0 && day % 7 != 1 {  // Monday to Friday
            list.append(Self.d(Int64(day), "v\(day)", .deploy, .succeeded, start: Self.at(day, 9), end: Self.at(day, 10)))
        }
        let r = DORAReport.compute(environment: "production", deployments: list, incidents: [], commitTimes: [:], from: Self.at(2, 0), to: Self.at(29, 23))
        #expect(r.deploymentFrequency.bucket == "daily" && r.deploymentFrequency.tier == .elite, "\(r.deploymentFrequency)")
    }

    /// The trend: one report per week of the fixture, each over its own week, oldest first, each with its tier.
    @Test func theTrendIsOneReportPerStepEachWithItsTiers() {
        let deployments = [
            Self.d(1, "v1", .deploy, .succeeded, start: Self.at(2, 9, 55), end: Self.at(2, 10)),
            Self.d(2, "v2", .deploy, .succeeded, start: Self.at(3, 9, 55), end: Self.at(3, 10)),
            Self.d(3, "v3", .deploy, .rolledBack, start: Self.at(4, 9, 55), end: Self.at(4, 10)),
            Self.d(4, "v4", .deploy, .succeeded, start: Self.at(9, 11, 55), end: Self.at(9, 12)),
            Self.d(5, "v2", .rollback, .succeeded, start: Self.at(9, 12, 55), end: Self.at(9, 13), previous: "v4"),
            Self.d(6, "v5", .deploy, .failed, start: Self.at(16, 8, 55), end: Self.at(16, 9)),
            Self.d(7, "v6", .deploy, .succeeded, start: Self.at(16, 10, 55), end: Self.at(16, 11)),
            Self.d(8, "v7", .deploy, .succeeded, start: Self.at(23, 9, 55), end: Self.at(23, 10)),
            Self.d(9, "v8", .deploy, .succeeded, start: Self.at(24, 9, 55), end: Self.at(24, 10)),
        ]
        let trend = DORAReport.trend(environment: "production", deployments: deployments, incidents: [], commitTimes: [:],
                                     points: 4, step: 7 * 86_400, window: 7 * 86_400, end: Self.at(29, 23, 59))
        #expect(trend.map(\.to) == [Self.at(8, 23, 59), Self.at(15, 23, 59), Self.at(22, 23, 59), Self.at(29, 23, 59)], "oldest first, a week apart")
        #expect(trend.map(\.deploymentFrequency.deployments) == [[1, 2], [4], [7], [8, 9]], "each point counts its own window")
        // Week 1: #3 of 3 failed; week 2: #4, rolled back by #5; week 3: #6 never took traffic and #7 held; week 4: none failed.
        #expect(trend.map(\.changeFailureRate.value) == [1.0 / 3, 1, 0, 0])
        #expect(trend.map(\.changeFailureRate.tier) == [.low, .low, .elite, .elite])
        #expect(trend.map(\.reworkRate.value) == [0, 0.5, 0, 0], "the rollback is week 2's rework")
    }
}
