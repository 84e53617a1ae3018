import Foundation
@testable import SlipwayEngine
import SlipwayCore
import Testing

/// How the outbox groups alert notifications, without a daemon: which rows leave together, and when a
/// newly queued alert falls due.
struct NotificationBatchTests {
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

    /// Alerts that fire together but reach the outbox on passes a moment apart leave together: a later one falls
    /// due with the group already waiting on its channel and environment (not its own group_wait later), while
    /// another channel, another environment, or the alert's own waiting repeat start no group.
    @Test func anAlertQueuedWhileOthersWaitJoinsTheirGroupButNotItsOwnRepeat() {
        let now = Date(timeIntervalSince1970: 100)
        let otherwise = now.addingTimeInterval(30)
        func waiting(_ id: Int64, alert: String, channel: String = "webhook-1", env: String? = "production", dueIn: Double) -> (row: NotificationInfo, alert: String?) {
            var r = row(id, "alert.firing", channel: channel, env: env)
            r.nextAttemptAt = now.addingTimeInterval(dueIn)
            return (r, alert)
        }
        let group = [waiting(1, alert: "disk-a", dueIn: 20), waiting(2, alert: "disk-c", dueIn: 25)]
        #expect(NotificationBatch.due(channel: "webhook-1", environment: "production", alert: "disk-b", waiting: group, otherwise: otherwise)
                == now.addingTimeInterval(20), "joins the group, which leaves when its first member falls due")
        #expect(NotificationBatch.due(channel: "webhook-1", environment: "production", alert: "disk-b", waiting: [], otherwise: otherwise) == otherwise)
        #expect(NotificationBatch.due(channel: "slack-2", environment: "production", alert: "disk-b", waiting: group, otherwise: otherwise) == otherwise)
        #expect(NotificationBatch.due(channel: "webhook-1", environment: "staging", alert: "disk-b", waiting: group, otherwise: otherwise) == otherwise)
        #expect(NotificationBatch.due(channel: "webhook-1", environment: "production", alert: "disk-a", waiting: [group[0]], otherwise: otherwise) == otherwise,
                "an alert's repeat does not join its own waiting notification")
        #expect(NotificationBatch.due(channel: "webhook-1", environment: "production", alert: "disk-b", waiting: [waiting(3, alert: "x", dueIn: 40)],
                                      otherwise: otherwise) == otherwise, "never later than its own group_wait")
    }
}
