import Foundation
@testable import SlipwayEngine
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import Testing

/// Alerts of one environment that start together reach a channel as one message, not one page each.
@Suite(.serialized)
struct NotificationGroupTests {
    func row(_ id: Int64, _ type: String, channel: String = "webhook-1", env: String? = "production", severity: Severity = .p2) -> NotificationInfo {
        NotificationInfo(id: id, key: "\(channel)-\(id)", channel: channel, environment: env, eventId: id * 10, eventType: type, severity: severity,
                         text: "text \(id)", body: "{\"id\":\"\(channel)-\(id)\",\"n\":\(id)}", nextAttemptAt: Date(timeIntervalSince1970: 0),
                         createdAt: Date(timeIntervalSince1970: Double(id)))
    }

    @Test func dueAlertsAreGroupedByChannelAndEnvironmentAndNothingElseIs() throws {
        let due = [row(1, "alert.firing"), row(2, "deployment.transition"), row(3, "alert.firing", severity: .p0),
                   row(4, "alert.firing", env: "staging"), row(5, "alert.firing", channel: "slack-2"), row(6, "alert.resolved")]
        let batches = NotificationBatch.group(due)
        #expect(batches.map { $0.members.map(\.id) } == [[1, 3, 6], [2], [4], [5]])
        let group = batches[0].notification
        #expect(group.eventType == "alert.group" && group.severity == .p0, "the group is as severe as its worst member")
        #expect(group.key == "webhook-1-group-10.30.60", "the same members give the same idempotency key on a retry")
        #expect(group.text == "3 alerts in production:\n• text 1\n• text 3\n• text 6")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(group.body.utf8)) as? [String: Any])
        #expect(json["type"] as? String == "alert.group" && json["environment"] as? String == "production" && json["id"] as? String == group.key)
        let members = try #require(json["notifications"] as? [[String: Any]])
        #expect(members.compactMap { $0["n"] as? Int } == [1, 3, 6], "each member's own body, verbatim")
        #expect(batches[1].notification == due[1], "a lone notification goes out as it is")
    }

    @Test(.timeLimit(.minutes(1)))
    func twoAlertsFiringTogetherArriveAsOneSignedMessage() async throws {
        let receiver = try PortAllocator.freePort()
        let secret = "hook-\(UUID().uuidString.prefix(8))"
        let s = try Sandbox(extra: """
            alerts:
              - { name: disk-a, expr: "disk_free < 101%", severity: P2 }
              - { name: disk-b, expr: "disk_free < 102%", severity: P1 }
            notify:
              - { webhook: "http://127.0.0.1:\(receiver)/hook", secret: HOOK_SECRET, events: [alert], group_wait: 3s }
            """)
        try FileManager.default.createDirectory(atPath: s.config.root, withIntermediateDirectories: true)
        try "HOOK_SECRET=\(secret)\n".write(toFile: s.config.root + "/secrets.env", atomically: true, encoding: .utf8)
        let inbox = Inbox()
        let server = Inbox.serve(inbox, port: receiver, secret: secret)
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let sent = try await poll(within: .seconds(20)) { () async throws -> [NotificationInfo]? in
                let all: [NotificationInfo] = try await s.client.get("/v1/notifications")
                return all.count == 2 && all.allSatisfy({ $0.state == .sent }) ? all : nil
            }
            #expect(Set(sent.map(\.environment)) == ["production"])
            let got = await inbox.deliveries
            #expect(got.count == 1, "one message for both alerts: \(got.map(\.body))")
            let message = try #require(got.first)
            #expect(message.signatureValid && message.headers["x-slipway-event"] == "alert.group", "\(message.headers)")
            #expect(message.body.contains("2 alerts in production") && message.body.contains("disk-a") && message.body.contains("disk-b")
                    && message.body.contains("\"severity\":\"P1\""), "\(message.body)")
        }
        server.cancel()
        _ = await server.result
    }
}
