import Foundation
import GRDB
import SlipwayCore
import SlipwayRuntime
import Testing

/// Freezes, overrides and the audit chain through the real CLI against a daemon.
@Suite(.serialized)
struct GovernanceIntegrationTests {
    static func cli(_ args: [String], _ s: Sandbox) async throws -> (status: Int32, text: String) {
        let out = s.dir + "/cli-\(UUID().uuidString.prefix(6)).out"
        let status = try await ProcessSpawner.run(argv: [TestBinaries.slipway] + args + ["--config", s.dir + "/slipway.yml"], directory: s.dir,
                                                  environment: ProcessInfo.processInfo.environment, logFile: out)
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }

    @Test(.timeLimit(.minutes(2)))
    func aFreezeRefusesAnAdminOverridesWithAReasonAndTheAuditLogProvesIt() async throws {
        // A freeze that always holds: it starts every minute and lasts ten.
        let s = try Sandbox(extra: "freezes: [{ name: always, cron: \"* * * * *\", duration: 10m, timezone: Europe/Berlin }]")
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            let refused = try await Self.cli(["deploy", "v1"], s)
            #expect(refused.status == 3 && refused.text.contains("'production' is frozen (always) until "), "\(refused)")
            let gates = try await Self.cli(["gates", "v1"], s)
            #expect(gates.status == 3 && gates.text.contains("BLOCK freeze: 'production' is frozen (always)") && gates.text.contains("pass  lock"), "\(gates)")
            let noReason = try await Self.cli(["deploy", "v1", "--override-window"], s)
            #expect(noReason.status == 2 && noReason.text.contains("--override-window needs --reason"), "\(noReason)")
            let overridden = try await Self.cli(["deploy", "v1", "--override-window", "--reason", "hotfix for INC-42"], s)
            #expect(overridden.status == 0, "\(overridden)")
            #expect(try await s.status().currentRelease == "v1")
            let audit = try await Self.cli(["audit", "--json"], s)
            let entries = try SlipwayJSON.decoder().decode([AuditEntry].self, from: Data(audit.text.utf8))
            let override = try #require(entries.first { $0.action == "policy.override" }, "\(entries)")
            #expect(override.detail.contains("freeze: ") && override.detail.hasSuffix("reason: hotfix for INC-42") && override.target == "production/v1")
            #expect(entries.contains { $0.action == "deploy" && $0.outcome == "refused" && $0.detail.hasPrefix("freeze: ") })

            let intact = try await Self.cli(["audit", "verify"], s)
            #expect(intact.status == 0 && intact.text.contains("audit log intact"), "\(intact)")
            // Someone edits one entry in state.db: verify names it.
            let db = try DatabaseQueue(path: s.config.databasePath)
            try await db.write { try $0.execute(sql: "UPDATE audit SET detail = 'nothing to see' WHERE id = ?", arguments: [override.id]) }
            let broken = try await Self.cli(["audit", "verify"], s)
            #expect(broken.status == 1 && broken.text.contains("audit entry \(override.id) does not match"), "\(broken)")
        }
    }
}
