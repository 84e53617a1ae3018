import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayEngine
import SlipwayRuntime
import SlipwayServer
import Testing

/// Alerts judged by a real daemon on real traffic: a release failing half its requests under load fires
/// the P0 alert; a failed backup fires the built-in one; a silence is audited.
@Suite(.serialized)
struct AlertIntegrationTests {
    @Test(.timeLimit(.minutes(2)))
    func aReleaseFailingHalfItsRequestsFiresTheP0AlertAndOpensAnIncident() async throws {
        let receiver = try PortAllocator.freePort()
        let s = try Sandbox(extra: """
            watch: 0s
            alerts:
              - { name: high-error-rate, expr: "error_rate > 5%", for: 1s, severity: P0, runbook: "https://wiki.example/errors" }
              - { name: slow, expr: "p99_latency > 2s", severity: P2 }
            notify:
              - { webhook: "http://127.0.0.1:\(receiver)/hook", secret: HOOK_SECRET, events: [alert, incident], group_wait: 0s }
            \(Sandbox.sqliteBackup(""))
            """)
        try FileManager.default.createDirectory(atPath: s.config.root, withIntermediateDirectories: true)
        try "HOOK_SECRET=incident-hook-secret\n".write(toFile: s.config.root + "/secrets.env", atomically: true, encoding: .utf8)
        let inbox = Inbox()
        let server = Inbox.serve(inbox, port: receiver, secret: "incident-hook-secret")
        try await stopping([server]) {
            try await s.withDaemon { _ in
                _ = try await s.release("v0")
                #expect(try await s.outcome(try await s.deploy("v0")).state == .succeeded)
                _ = try await s.release("v1", settings: "\"fail_rate\": 0.5")
                let bad = try await s.outcome(try await s.deploy("v1"))
                #expect(bad.state == .succeeded)
                let load = LoadLoop(port: s.port)
                load.start(concurrency: 2, maxDuration: .seconds(60))
                let firing = try await poll(within: .seconds(30)) {
                    let all: [AlertInfo] = try await s.client.get("/v1/alerts")
                    return all.first { $0.name == "high-error-rate" && $0.state == .firing }
                }
                #expect(firing.severity == .p0 && firing.runbook == "https://wiki.example/errors" && firing.environment == "production")
                #expect(firing.summary.hasPrefix("error_rate ") && firing.summary.contains("(> 5.0%)"), "\(firing.summary)")
                let page: EventPage = try await s.client.get("/v1/events?since=0&limit=1000")
                let types = page.events.filter { $0.type.hasPrefix("alert.") }.map(\.type)
                #expect(types.starts(with: ["alert.pending", "alert.firing"]), "\(types)")
                let slow: [AlertInfo] = try await s.client.get("/v1/alerts")
                #expect(slow.first { $0.name == "slow" }?.state == .inactive, "the latency alert stays quiet")

                // The P0 alert opened an incident, linked to the release that was live and the deployment that brought it.
                // (Saved right after the alert's state, in the same pass: poll rather than race it.)
                let incidents = try await poll(within: .seconds(5)) { () async throws -> [IncidentInfo]? in
                    let open: [IncidentInfo] = try await s.client.get("/v1/incidents?open=true")
                    return open.isEmpty ? nil : open
                }
                let incident = try #require(incidents.first, "no incident opened")
                #expect(incidents.count == 1 && incident.severity == .p0 && incident.status == .investigating && incident.release == "v1"
                        && incident.deploymentId == bad.id && incident.trigger.hasPrefix("alert high-error-rate: "), "\(incident)")
                // Both go out in the same pump when they are written close together, each in its own request, so
                // either may arrive first: wait for both.
                let told = try await poll(within: .seconds(10)) { () async -> [Inbox.Delivery]? in
                    let got = await inbox.deliveries
                    let events = Set(got.compactMap { $0.headers["x-slipway-event"] })
                    return events.isSuperset(of: ["incident.opened", "alert.firing"]) ? got : nil
                }
                #expect(told.allSatisfy { $0.signatureValid && $0.fresh }, "\(told.map(\.headers))")
                // While it fires (v1 still fails half the requests under load): listed, then silenced.
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
                // Someone acknowledges it, rolls back, notes why, and resolves it; the review has it all.
                #expect(try await s.cli(["incident", "ack", "\(incident.id)"]).text.contains("acknowledged by"))
                let rolledBack = try await s.cli(["rollback", "v0"])
                #expect(rolledBack.status == 0, "\(rolledBack)")
                _ = await load.stop()
                #expect(try await s.cli(["incident", "note", "\(incident.id)", "v1 broke the checkout; rolled back to v0"]).status == 0)
                #expect(try await s.cli(["incident", "resolve", "\(incident.id)"]).text.contains("is resolved"))
                let review = try await s.cli(["incident", "review", "\(incident.id)"])
                #expect(review.status == 0 && review.text.hasPrefix("# Post-incident review: incident \(incident.id) — high-error-rate in production"), "\(review.text)")
                for line in ["deploy: deploy of v1 (deployment \(bad.id)) succeeded", "alert: [P0] high-error-rate firing", "rollback: rollback of v0",
                             "note: v1 broke the checkout; rolled back to v0", "incident: acknowledged by ", "incident: opened: alert high-error-rate", "## Impact", "requests failed"] {
                    #expect(review.text.contains(line), "the review lacks '\(line)'")
                }
                let closed = try await s.cli(["incident", "close", "\(incident.id)"])
                #expect(closed.status == 0 && closed.text.contains("is closed"), "\(closed)")
                // DORA from the same records: v1 caused the incident and was rolled back; the rollback is rework.
                let report = try await s.cli(["report", "--since", "1h", "--json"])
                let dora = try SlipwayJSON.decoder().decode(DORAReport.self, from: Data(report.text.utf8))
                #expect(dora.changeFailureRate.value == 0.5 && dora.changeFailureRate.deployments == [bad.id], "\(dora.changeFailureRate)")
                #expect(dora.deploymentFrequency.deployments.count == 2 && dora.reworkRate.value == 1.0 / 3 && dora.recoveryTime.value != nil, "\(dora)")
                let table = try await s.cli(["report", "--since", "1h"])
                #expect(table.text.contains("change failure rate") && table.text.contains("50.0%"), "\(table)")

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

    /// A failed deploy opens an incident; the next failure joins it instead of opening another.
    @Test(.timeLimit(.minutes(1)))
    func aFailedDeployOpensAnIncidentAndTheNextJoinsIt() async throws {
        let s = try Sandbox(deadline: "1s")
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            _ = try await s.release("v2", ready: false)
            let first = try await s.outcome(try await s.deploy("v2"))
            #expect(first.state == .failed)
            let opened = try await poll(within: .seconds(5)) { () async throws -> IncidentInfo? in
                let list: [IncidentInfo] = try await s.client.get("/v1/incidents")
                return list.first
            }
            #expect(opened.severity == .p2 && opened.title == "deploy of v2 failed in production" && opened.trigger.hasPrefix("failed deployment \(first.id): ")
                    && opened.release == "v1", "\(opened)")
            let second = try await s.outcome(try await s.deploy("v2"))
            let list: [IncidentInfo] = try await s.client.get("/v1/incidents")
            #expect(list.count == 1, "the second failure joined the open incident: \(list)")
            let detail: IncidentDetail = try await s.client.get("/v1/incidents/\(opened.id)")
            #expect(detail.timeline.contains { $0.kind == "incident" && $0.text == "joined: failed deployment \(second.id): \(second.message?.split(separator: "\n").first ?? "")" },
                    "\(detail.timeline)")
            let closing = try await s.cli(["incident", "close", "\(opened.id)"])
            #expect(closing.status == 2 && closing.text.contains("resolve it before closing it"), "\(closing)")
        }
    }

    /// The 2 AM backup that fails: run by the scheduler (its clock injected), it raises the built-in alert with no
    /// `alerts:` config, and the alert reaches the team's webhook, signed.
    @Test(.timeLimit(.minutes(2)))
    func aFailedScheduledBackupRaisesTheBuiltInAlertAndNotifies() async throws {
        let receiver = try PortAllocator.freePort()
        let secret = "hook-\(UUID().uuidString.prefix(8))"
        let s = try Sandbox(extra: """
            notify:
              - { webhook: "http://127.0.0.1:\(receiver)/hook", secret: HOOK_SECRET, events: [alert], group_wait: 0s }
            \(Sandbox.sqliteBackup("schedule: \"0 2 * * *\"\ntimezone: UTC"))
            """)
        try FileManager.default.createDirectory(atPath: s.config.root, withIntermediateDirectories: true)
        try "HOOK_SECRET=\(secret)\n".write(toFile: s.config.root + "/secrets.env", atomically: true, encoding: .utf8)
        let inbox = Inbox()
        let server = Inbox.serve(inbox, port: receiver, secret: secret)
        try await stopping([server]) {
            func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }
            try await s.withDaemon(runSchedules: false) { daemon in
                // The database the backup reads does not exist: the scheduled backup at 02:00 fails.
                #expect(await daemon.engine.backups.runDueJobs(now: at("2026-11-28T12:00:00Z")).isEmpty)
                #expect(await daemon.engine.backups.runDueJobs(now: at("2026-11-29T02:00:10Z")) == ["backup:production"])
                let backups: [BackupInfo] = try await s.client.get("/v1/backups")
                #expect(backups.isEmpty)
                let alert = try await poll(within: .seconds(10)) {
                    let all: [AlertInfo] = try await s.client.get("/v1/alerts")
                    return all.first { $0.name == "backup-failed" && $0.state == .firing }
                }
                #expect(alert.builtIn && alert.severity == .p2 && alert.environment == "production", "\(alert)")
                let delivery = try await poll(within: .seconds(15)) {
                    await inbox.deliveries.first { $0.headers["x-slipway-event"] == "alert.firing" }
                }
                #expect(delivery.signatureValid && delivery.fresh, "\(delivery.headers)")
                #expect(delivery.body.contains("backup-failed") && delivery.body.contains("\"severity\":\"P2\""), "\(delivery.body)")
                #expect(!delivery.body.contains(secret))
            }
            server.cancel()
            _ = await server.result
        }
    }
}
