import Foundation
import SlipwayCore
@testable import SlipwayFleet
import Testing

/// DORA over a fleet's shared records: which fleet deployments count as deploys, rollbacks and failures.
struct FleetDORATests {
    func record(_ n: Int64, _ version: String, _ kind: FleetDeploymentRecord.Kind, _ state: String, current: String? = nil, at minutes: Double) -> FleetDeploymentRecord {
        var r = FleetDeploymentRecord(id: "fd-\(n)", environment: "production", version: version, kind: kind, actor: "ops", holder: "ops@x", hosts: ["h1", "h2"],
                                      startedAt: Date(timeIntervalSince1970: 1_800_000_000 + minutes * 60))
        r.number = n
        r.state = state
        r.finishedAt = state == "running" ? nil : r.startedAt.addingTimeInterval(60)
        r.results = current.map { c in ["h1", "h2"].map { FleetOutcome.Host(host: $0, state: .reverted, current: c, message: "") } } ?? []
        return r
    }

    @Test func fleetDeploymentsCountAsDeploysRollbacksAndFailures() {
        let records = [
            record(1, "v1", .deploy, "succeeded", at: 0),
            record(2, "v2", .deploy, "succeeded", at: 10),
            record(3, "v2", .revert, "rolled_back", current: "v1", at: 20),   // deploy rollback fd-2: v1 serves again
            record(4, "v3", .deploy, "refused", at: 30),                      // never started
            record(5, "v3", .deploy, "partial", at: 40),                      // halted: a failure
            record(6, "v3", .resume, "succeeded", at: 50),
            record(7, "v2", .rollback, "succeeded", at: 60),                  // slipway rollback v2, away from v3
            record(8, "v4", .deploy, "running", at: 70),                      // not ended
        ]
        let d = FleetDeploymentRecord.doraDeployments(records)
        #expect(d.map(\.id) == [1, 2, 3, 5, 6, 7])
        #expect(d.map(\.kind) == [.deploy, .deploy, .rollback, .deploy, .deploy, .rollback])
        #expect(d.map(\.state) == [.succeeded, .succeeded, .succeeded, .failed, .succeeded, .succeeded], "a revert that rolled back did what it was asked")
        #expect(d[2].version == "v1" && d[2].previousVersion == "v2", "deploy rollback ID undoes its release")
        #expect(d[5].version == "v2" && d[5].previousVersion == "v3", "slipway rollback leaves what served")

        let report = DORAReport.compute(environment: "production", deployments: d, incidents: [], commitTimes: [:],
                                        from: Date(timeIntervalSince1970: 1_800_000_000 - 86_400), to: Date(timeIntervalSince1970: 1_800_000_000 + 86_400))
        #expect(report.deploymentFrequency.deployments == [1, 2, 6])
        // v2 (undone by #3) and v3 (rolled back from by #7) of the three that reached traffic.
        #expect(report.changeFailureRate.deployments == [2, 6] && report.changeFailureRate.value == 2.0 / 3.0, "\(report.changeFailureRate)")
    }
}
