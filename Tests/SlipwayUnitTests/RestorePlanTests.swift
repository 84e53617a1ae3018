import Foundation
import SlipwayCore
import Testing

/// The plan a restore prints before it runs: what is lost and what is kept.
@Suite struct RestorePlanTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let db = RestorePlan.Source(name: "db", kind: "sqlite", archivedUntil: Date(timeIntervalSince1970: 1_799_999_999), lagSeconds: 0.4)
    let uploads = RestorePlan.Source(name: "uploads", kind: "directory", archivedUntil: nil, lagSeconds: nil)

    @Test func aPointInPlaceLosesTheWritesAfterItAndUndoesTheDataOfLaterDeployments() {
        let point = now.addingTimeInterval(-250)
        let plan = RestorePlan.make(environment: "production", label: "point", point: point, target: "in place", sources: [db],
                                    deployments: [.init(id: 43, version: "v1.4", startedAt: now.addingTimeInterval(-60)),
                                                  .init(id: 42, version: "v1.3", startedAt: now.addingTimeInterval(-200))],
                                    others: [uploads], maxLag: .seconds(1), now: now)
        #expect(plan.lost.count == 3)
        #expect(plan.lost[0].contains("writes to db after") && plan.lost[0].contains("4m 10s of them"), "\(plan.lost)")
        #expect(plan.deploymentsAfter.map(\.id) == [42, 43])
        #expect(plan.lost[1].contains("deployment 42 (v1.3") && plan.lost[1].contains("its code keeps running"))
        #expect(plan.kept.contains("sources not restored: uploads (directory)"))
        #expect(plan.lines.first == "Plan: restore production's db (sqlite) in place from point")
        #expect(plan.lines.contains { $0.hasPrefix("  db: holds writes up to") && $0.hasSuffix("0.4 s behind now") }, "\(plan.lines)")
    }

    @Test func theLatestPointLosesOnlyWhatIsNotArchivedYet() {
        let plan = RestorePlan.make(environment: "production", label: "latest", point: nil, target: "in place", sources: [db], deployments: [],
                                    others: [], maxLag: .seconds(1), now: now)
        #expect(plan.lost == ["writes to db not archived yet: about 0.4 s behind right now (max_lag 1.0 s)"])
    }

    @Test func aRestoreElsewhereLosesNothing() {
        let plan = RestorePlan.make(environment: "production", label: "b1", point: now.addingTimeInterval(-3600), target: "/tmp/copy.db", sources: [db],
                                    deployments: [.init(id: 42, version: "v1.3", startedAt: now)], others: [], maxLag: nil, now: now)
        #expect(plan.lost.isEmpty && plan.deploymentsAfter.isEmpty)
        #expect(plan.kept.first == "the live data: the restore writes to /tmp/copy.db")
    }
}
