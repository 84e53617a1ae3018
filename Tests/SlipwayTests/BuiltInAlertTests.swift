import Foundation
import GRDB
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import SlipwayServer
import Testing

/// The built-in alerts a user never configures, each brought about the way it happens to them (a damaged
/// backup, a failed drill, a drill over its RTO, a crash loop), each notifying once and resolving; and a
/// silence, which holds back even a notification already waiting in `group_wait`.
@Suite(.serialized)
struct BuiltInAlertTests {
    /// The alert notifications a receiver got, as (event, alert name).
    static func received(_ inbox: Inbox) async -> [(String, String)] {
        await inbox.deliveries.compactMap { d -> (String, String)? in
            guard let event = d.headers["x-slipway-event"], event.hasPrefix("alert.") else { return nil }
            let name = d.body.range(of: "\"name\":\"").map { String(d.body[$0.upperBound...].prefix { $0 != "\"" }) } ?? "?"
            return (event, name)
        }
    }

    static func waitFor(_ inbox: Inbox, _ event: String, _ name: String, within: Duration = .seconds(20)) async throws {
        _ = try await poll(within: within) { await received(inbox).contains { $0 == (event, name) } ? true : nil }
    }

    static func count(_ inbox: Inbox, _ event: String, _ name: String) async -> Int {
        await received(inbox).filter { $0 == (event, name) }.count
    }

    /// A sandbox whose `notify:` posts alerts to a local receiver (signed with a secret from the root's
    /// secrets.env), its daemon running around `body`.
    static func withReceiver(groupWait: String = "0s", extra: String = "", seed: String? = nil,
                             _ body: (Sandbox, Daemon, Inbox) async throws -> Void) async throws {
        let receiver = try PortAllocator.freePort()
        let secret = "hook-\(UUID().uuidString.prefix(8))"
        let s = try Sandbox(extra: """
            notify:
              - { webhook: "http://127.0.0.1:\(receiver)/hook", secret: HOOK_SECRET, events: [alert], group_wait: \(groupWait) }
            \(extra)
            """)
        try FileManager.default.createDirectory(atPath: s.config.root, withIntermediateDirectories: true)
        try "HOOK_SECRET=\(secret)\n".write(toFile: s.config.root + "/secrets.env", atomically: true, encoding: .utf8)
        if let seed { _ = try await s.seedDatabase(seed) }
        let inbox = Inbox()
        let server = Inbox.serve(inbox, port: receiver, secret: secret)
        try await stopping([server]) {
            try await s.withDaemon { daemon in try await body(s, daemon, inbox) }
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func verifyAndDrillAlertsFireNotifyOnceAndResolve() async throws {
        try await Self.withReceiver(extra: Sandbox.sqliteBackup(""), seed: "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)") { s, _, inbox in
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let first: BackupInfo = try await s.client.post("/v1/backups", BackupCreateRequest(environment: nil, source: nil, actor: "t"))
            let archive = "\(s.config.root)/backups/demo/\(first.environment)/\(first.id)/" + (first.manifest.entries.first { $0.source == "db" }?.file ?? "")
            try BackupFixture.corrupt(archive)

            // A damaged backup fails its verification, then the drill that restores it.
            #expect(try await s.cli(["backup", "verify", first.id]).status == 1)
            try await Self.waitFor(inbox, "alert.firing", "verify-failed")
            #expect(try await s.cli(["drill"]).status == 1)
            try await Self.waitFor(inbox, "alert.firing", "drill-failed")

            // A good backup, verified and drilled: both resolve.
            let second: BackupInfo = try await s.client.post("/v1/backups", BackupCreateRequest(environment: nil, source: nil, actor: "t"))
            #expect(try await s.cli(["backup", "verify", second.id]).status == 0)
            try await Self.waitFor(inbox, "alert.resolved", "verify-failed")
            #expect(try await s.cli(["drill"]).status == 0)
            try await Self.waitFor(inbox, "alert.resolved", "drill-failed")

            // A drill that works but misses its RTO target fires drill-over-rto (not drill-failed).
            let yaml = try String(contentsOfFile: s.dir + "/slipway.yml", encoding: .utf8)
            try yaml.replacingOccurrences(of: "    - { local: backups }", with: "    - { local: backups }\n  rto_target: 1ms")
            .write(toFile: s.dir + "/slipway.yml", atomically: true, encoding: .utf8)
            #expect(try await s.cli(["drill"]).status == 1)
            try await Self.waitFor(inbox, "alert.firing", "drill-over-rto")
            try yaml.write(toFile: s.dir + "/slipway.yml", atomically: true, encoding: .utf8)
            #expect(try await s.cli(["drill"]).status == 0)
            try await Self.waitFor(inbox, "alert.resolved", "drill-over-rto")

            // Each change was told once.
            let got = await Self.received(inbox)
            for name in ["verify-failed", "drill-failed", "drill-over-rto"] {
            let fired = got.filter { $0 == ("alert.firing", name) }.count, resolved = got.filter { $0 == ("alert.resolved", name) }.count
            #expect(fired == 1 && resolved == 1, "\(name): \(got)")
            }
        }
    }

    /// An app that keeps crashing fires crash-loop (P1, notified once) and opens an incident; it resolves once a
    /// release that stays up serves.
    @Test(.timeLimit(.minutes(3)))
    func aCrashLoopFiresAndOpensAnIncident() async throws {
        try await Self.withReceiver { s, _, inbox in
            // Ready, then exits a second later, again and again: the supervisor restarts it each time.
            _ = try await s.release("v1", settings: "\"crash_after_s\": 1")
            _ = try await s.deploy("v1")
            try await Self.waitFor(inbox, "alert.firing", "crash-loop", within: .seconds(90))
            #expect(await Self.count(inbox, "alert.firing", "crash-loop") == 1)
            let incident = try await poll(within: .seconds(10)) { () async throws -> IncidentInfo? in
                try await s.client.get("/v1/incidents", as: [IncidentInfo].self).first
            }
            #expect(incident.cause == .alert && incident.trigger.hasPrefix("alert crash-loop: "), "\(incident)")
            // A release that stays up ends the loop: the alert resolves, once.
            _ = try await s.release("v2")
            #expect(try await s.outcome(try await s.deploy("v2")).state == .succeeded)
            try await Self.waitFor(inbox, "alert.resolved", "crash-loop")
            #expect(await Self.count(inbox, "alert.resolved", "crash-loop") == 1)
        }
    }

    /// A silence holds back the alert's notifications, also one already waiting in group_wait; once it expires,
    /// the alert (still firing, repeating) notifies again.
    @Test(.timeLimit(.minutes(2)))
    func aSilenceHoldsBackEvenAWaitingNotificationUntilItExpires() async throws {
        let alerts = """
            alerts:
              - { name: stale-backup, expr: "backup_age > 1s", severity: P3, repeat: 1s }
            """
        try await Self.withReceiver(groupWait: "2500ms", extra: alerts + "\n" + Sandbox.sqliteBackup(""), seed: "CREATE TABLE t (x)") { s, _, inbox in
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            // No backup, nothing to judge; a second after one, it fires and its notification waits group_wait (2.5 s).
            _ = try await s.client.post("/v1/backups", BackupCreateRequest(environment: nil, source: nil, actor: "t"), as: BackupInfo.self)
            let waiting = try await poll(within: .seconds(20)) { () async throws -> NotificationInfo? in
                try await s.client.get("/v1/notifications", as: [NotificationInfo].self).first { $0.eventType == "alert.firing" && $0.state == .pending }
            }
            // Silenced meanwhile: the waiting notification never goes out.
            let silenced = try await s.cli(["silence", "stale-backup", "--for", "3s", "--reason", "restore test tonight"])
            #expect(silenced.status == 0, "\(silenced)")
            let firing = try await poll(within: .seconds(20)) { () async throws -> NotificationInfo? in
                try await s.client.get("/v1/notifications", as: [NotificationInfo].self).first { $0.id == waiting.id && $0.state != .pending }
            }
            #expect(firing.state == .silenced, "\(firing)")
            #expect(await Self.received(inbox).isEmpty, "nothing sent while silenced")
            // The silence expires: the next repetition goes out.
            try await Self.waitFor(inbox, "alert.repeated", "stale-backup", within: .seconds(40))
            #expect(await Self.count(inbox, "alert.firing", "stale-backup") == 0)
        }
    }
}
