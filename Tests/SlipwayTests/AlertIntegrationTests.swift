import Foundation
import SlipwayClient
import SlipwayCore
import Testing

/// Alerts judged by a real daemon on real traffic: a release failing half its requests under load fires
/// the P0 alert; a failed backup fires the built-in one; a silence is audited.
@Suite(.serialized)
struct AlertIntegrationTests {
    @Test(.timeLimit(.minutes(2)))
    func aReleaseFailingHalfItsRequestsFiresTheP0Alert() async throws {
        let s = try Sandbox(extra: """
            watch: 0s
            alerts:
              - { name: high-error-rate, expr: "error_rate > 5%", for: 1s, severity: P0, runbook: "https://wiki.example/errors" }
              - { name: slow, expr: "p99_latency > 2s", severity: P2 }
            \(Sandbox.sqliteBackup(""))
            """)
        try await s.withDaemon { _ in
            _ = try await s.release("v1", settings: "\"fail_rate\": 0.5")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let load = LoadLoop(port: s.port)
            load.start(concurrency: 2, maxDuration: .seconds(60))
            let firing = try await poll(within: .seconds(30)) {
                let all: [AlertInfo] = try await s.client.get("/v1/alerts")
                return all.first { $0.name == "high-error-rate" && $0.state == .firing }
            }
            _ = await load.stop()
            #expect(firing.severity == .p0 && firing.runbook == "https://wiki.example/errors" && firing.environment == "production")
            #expect(firing.summary.hasPrefix("error_rate ") && firing.summary.contains("(> 5.0%)"), "\(firing.summary)")
            let page: EventPage = try await s.client.get("/v1/events?since=0&limit=1000")
            let types = page.events.filter { $0.type.hasPrefix("alert.") }.map(\.type)
            #expect(types.starts(with: ["alert.pending", "alert.firing"]), "\(types)")
            let slow: [AlertInfo] = try await s.client.get("/v1/alerts")
            #expect(slow.first { $0.name == "slow" }?.state == .inactive, "the latency alert stays quiet")

            let listed = try await s.cli(["alerts"])
            #expect(listed.status == 0 && listed.text.contains("high-error-rate") && listed.text.contains("P0") && listed.text.contains("FIRING"), "\(listed)")
            let silenced = try await s.cli(["silence", "high-error-rate", "--for", "1h", "--reason", "known: INC-7"])
            #expect(silenced.status == 0 && silenced.text.contains("production/high-error-rate silenced until"), "\(silenced)")
            let after: [AlertInfo] = try await s.client.get("/v1/alerts")
            let quiet = try #require(after.first { $0.name == "high-error-rate" })
            #expect(quiet.state == .firing && quiet.silenceReason == "known: INC-7"
                    && (quiet.silencedUntil?.timeIntervalSinceNow ?? 0) > 3500, "a silence holds notifications back, not the alert: \(quiet)")
            let audit: [AuditEntry] = try await s.client.get("/v1/audit?limit=20")
            #expect(audit.contains { $0.action == "alert.silence" && $0.target == "production/high-error-rate" && $0.detail == "for 1h: known: INC-7" })
            let unknown = try await s.cli(["silence", "nope", "--for", "1h", "--reason", "x"])
            #expect(unknown.status == 1 && unknown.text.contains("no alert 'nope'"), "\(unknown)")

            // The backup source does not exist: the backup fails, and the built-in alert fires with no config.
            let failed = try await s.cli(["backup", "create"])
            #expect(failed.status != 0, "\(failed)")
            let backupAlert = try await poll(within: .seconds(10)) {
                let all: [AlertInfo] = try await s.client.get("/v1/alerts")
                return all.first { $0.name == "backup-failed" && $0.state == .firing }
            }
            #expect(backupAlert.builtIn && backupAlert.severity == .p2 && backupAlert.summary.hasPrefix("the last backup failed"), "\(backupAlert)")
        }
    }
}
