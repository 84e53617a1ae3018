import Foundation
import SlipwayCore
import Testing

/// What a drill reports as its RTO: the time a recovery takes, which the drill's own integrity check is not part of.
@Suite struct DrillReportTests {
    func report(_ phases: [(String, Int)], rtoTarget: Duration?) -> DrillReport {
        DrillReport(environment: "production", backupId: "b1", backupCreatedAt: Date(timeIntervalSince1970: 0), release: nil,
                    startedAt: Date(timeIntervalSince1970: 60), phases: phases.map { .init(name: $0.0, ms: $0.1, detail: "") },
                    rpoSeconds: 60, rtoTarget: rtoTarget, rpoTarget: nil, checks: [], message: nil, logFile: "/dev/null")
    }

    @Test func theRTOCountsTheRecoveryPhasesNotTheIntegrityCheck() {
        let r = report([("download", 100), ("decompress", 0), ("restore", 2_000), ("integrity", 5_000), ("app_start", 300), ("health", 50)],
                       rtoTarget: .seconds(3))
        #expect(r.rtoMs == 2_450)
        // A slow count of the restored rows does not fail a target the recovery itself meets.
        #expect(r.rtoMet == true)
        #expect(r.ok)
        #expect(report([("restore", 2_000), ("integrity", 5_000)], rtoTarget: .seconds(1)).rtoMet == false)
    }
}
