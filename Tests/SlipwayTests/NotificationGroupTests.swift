import Foundation
@testable import SlipwayEngine
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import Testing

/// Alerts of one environment that start together reach a channel as one message, not one page each.
@Suite(.serialized)
struct NotificationGroupTests {
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
