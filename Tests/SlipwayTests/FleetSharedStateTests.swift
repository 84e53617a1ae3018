import Foundation
import SlipwayCore
@testable import SlipwayFleet
import SlipwayRuntime
import Testing

/// A fleet whose shared state is in PostgreSQL (`state.postgres`), deployed over real ssh by two operators: one lock
/// for both, freed the moment a killed controller's connection ends (no TTL to wait out), and one history, event log
/// and audit chain that either operator reads.
@Suite(.serialized)
struct FleetSharedStateTests {
    @Test(.timeLimit(.minutes(3)), .enabled(if: FleetLab.canRun && SharedStateTests.canRun, Comment(rawValue: FleetLab.skipNote + "; " + TestServices.skipNote)))
    func twoOperatorsShareOneLockAndOneHistoryInPostgres() async throws {
        let (_, url) = try await SharedStateTests.freshDatabaseURL()
        let password = try #require(URLComponents(string: url)?.password)
        let env = ["SLIPWAY_STATE_URL": url]
        try await FleetLab.with(2) { lab in
            try lab.writeApp(port: 18_080, top: "state: { postgres: { url_secret: SLIPWAY_STATE_URL } }")
            // Without the variable: a usage error naming it, nothing done.
            let unset = try await lab.cli(["deploy", "v1"])
            #expect(unset.status == 2 && unset.text.contains("SLIPWAY_STATE_URL is not set"), "\(unset.text)")

            try "v1".write(toFile: lab.app + "/VERSION", atomically: true, encoding: .utf8)
            let first = try await lab.cli(["deploy", "v1"], environment: env)
            #expect(first.status == 0, "\(first.text)")

            // Operator A's v2 is slow to start on h2; while it activates there, operator B is refused, naming A.
            try lab.slow("v2", onHost: 1)
            try "v2".write(toFile: lab.app + "/VERSION", atomically: true, encoding: .utf8)
            let (pid, log) = try lab.start(["deploy", "v2"], environment: env)
            let id = try await poll(within: .seconds(60)) { () -> String? in
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                guard text.contains("batch 2: activating h2"), let r = text.range(of: "fleet deployment fd-") else { return nil }
                return "fd-" + text[r.upperBound...].prefix { $0 != ":" }
            }
            let other = try await lab.cli(["deploy", "v2"], environment: env)
            #expect(other.status == 3 && other.text.contains("production is being deployed by") && other.text.contains(id), "\(other.text)")

            // A killed: its lock goes with its connection at once (the lease TTL, 30 s, is not waited out), its deployment
            // reads as interrupted, and B finishes it by id from the shared record.
            kill(pid, SIGKILL)
            _ = await ProcessSpawner.wait(pid)
            // (PostgreSQL notices the killed controller's connection is gone a moment after the kill.)
            let interrupted = try await poll(within: .seconds(10)) { () async throws -> String? in
                let h = try await lab.cli(["history", "--json"], environment: env)
                return h.text.contains("\"state\" : \"interrupted\"") ? h.text : nil
            }
            #expect(interrupted.contains(id))
            let resumed = try await lab.cli(["deploy", "resume", id, "--lock-wait", "10s"], environment: env)
            #expect(resumed.status == 0 && resumed.text.contains("v2 serves on 2 host(s)"), "\(resumed.text)")

            let history = try await lab.cli(["history", "--json"], environment: env)
            let records = try JSONDecoder().decode([Row].self, from: Data(history.text.utf8))
            #expect(records.first { $0.id == id }.map { [$0.kind, $0.state] } == ["resume", "succeeded"], "\(history.text)")
            #expect(records.map(\.state).sorted() == ["refused", "succeeded", "succeeded"], "\(history.text)")
            #expect(records.first { $0.id == id }?.results.map(\.current) == ["v2", "v2"])

            let events = try await lab.cli(["events", "--json", "--limit", "1000"], environment: env)
            for expected in ["\"type\":\"fleet.started\"", "\"type\":\"fleet.progress\"", "batch 1: activating h1", "\"type\":\"fleet.finished\"", "\"state\":\"refused\""] {
                #expect(events.text.contains(expected), "\(expected) in \(events.text)")
            }
            let audit = try await lab.cli(["audit", "--json"], environment: env)
            #expect(audit.text.contains("\"action\" : \"fleet.resume\"") && audit.text.contains("\"outcome\" : \"refused\""), "\(audit.text)")
            // Each attempt is audited before any host is asked (the killed one too), and again with its outcome.
            let entries = try JSONDecoder().decode([AuditRow].self, from: Data(audit.text.utf8))
            #expect(entries.reversed().map { "\($0.action) \($0.target) \($0.outcome)" } == [
                "fleet.deploy production v1 started", "fleet.deploy production v1 succeeded", "fleet.deploy production v2 started",
                "fleet.deploy production v2 started", "fleet.deploy production v2 refused", "fleet.resume production v2 started",
                "fleet.resume production v2 succeeded",
            ], "\(audit.text)")
            let verify = try await lab.cli(["audit", "verify"], environment: env)
            #expect(verify.status == 0 && verify.text.contains("audit log intact: 7 entries"), "\(verify.text)")
            // DORA over the shared records: the two deploys that succeeded (the refused one never started).
            let report = try await lab.cli(["report", "--json"], environment: env)
            #expect(report.status == 0 && report.text.contains("2 successful deploy(s)"), "\(report.text)")
            for text in [first.text, other.text, resumed.text, history.text, events.text, audit.text, verify.text, report.text] {
                #expect(!text.contains(password), "the shared state's password never shows")
            }
        }
    }

    struct AuditRow: Decodable {
        var action: String
        var target: String
        var outcome: String
    }

    struct Row: Decodable {
        struct Host: Decodable { var current: String? }
        var id: String
        var kind: String
        var state: String
        var results: [Host]
    }
}
