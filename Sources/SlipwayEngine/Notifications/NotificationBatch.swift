import Foundation
import SlipwayCore

/// What one delivery sends: a single notification, or the alert notifications of one environment that are
/// due together on one channel, as one message (`alert.group`). Each member keeps its own outbox row and
/// its own state; the group shares the attempt.
struct NotificationBatch: Sendable {
    var channel: String
    var members: [NotificationInfo]
    /// What goes out: the member itself, or the group rendered as one notification.
    var notification: NotificationInfo

    /// When an alert's notification for `channel` and `environment` falls due: with a group of other alerts already
    /// waiting there (`waiting`: rows in their first `group_wait`, with their alert's name), when that group does, so
    /// alerts that fire together leave as one message even when the outbox takes them in on passes a moment apart
    /// (Alertmanager's group_wait gathers what arrives meanwhile); else `groupWait` from now. The alert's own earlier
    /// notifications (a repeat still waiting) do not count: an alert is not grouped with itself.
    static func due(channel: String, environment: String?, alert: String, waiting: [(row: NotificationInfo, alert: String?)], otherwise: Date) -> Date {
        waiting.filter { $0.row.channel == channel && $0.row.environment == environment && $0.alert != nil && $0.alert != alert }
            .map(\.row.nextAttemptAt).min().map { min($0, otherwise) } ?? otherwise
    }

    /// Groups due rows (in outbox order): alert rows by channel and environment, every other row alone.
    static func group(_ due: [NotificationInfo]) -> [NotificationBatch] {
        var out: [NotificationBatch] = []
        var alertGroups: [String: Int] = [:]
        for n in due {
            guard n.eventType.hasPrefix("alert.") else {
                out.append(NotificationBatch(channel: n.channel, members: [n], notification: n))
                continue
            }
            let key = n.channel + "\u{1F}" + (n.environment ?? "")
            if let index = alertGroups[key] {
                out[index].members.append(n)
            } else {
                alertGroups[key] = out.count
                out.append(NotificationBatch(channel: n.channel, members: [n], notification: n))
            }
        }
        var alone: [NotificationBatch] = []
        for i in out.indices where out[i].members.count > 1 {
            do { out[i].notification = try combined(out[i].members) } catch {
                // A head that cannot be encoded: every member goes out on its own rather than not at all.
                alone += out[i].members.dropFirst().map { NotificationBatch(channel: $0.channel, members: [$0], notification: $0) }
                out[i].members = [out[i].members[0]]
                out[i].notification = out[i].members[0]
            }
        }
        return out + alone
    }

    /// One notification for several alerts: the most severe one's severity, every line of text, and each
    /// member's own body under `notifications`. Its key names the members, so a retry of the same group carries
    /// the same idempotency key.
    static func combined(_ members: [NotificationInfo]) throws -> NotificationInfo {
        let first = members[0]
        let severity = members.map(\.severity).min() ?? first.severity
        let environment = first.environment ?? "no environment"
        let text = "\(members.count) alerts in \(environment):\n" + members.map { "• " + $0.text }.joined(separator: "\n")
        let key = "\(first.channel)-group-\(members.map { String($0.eventId) }.joined(separator: "."))"
        let head = NotificationBody(id: key, type: "alert.group", category: .alert, severity: severity, environment: first.environment,
                                    time: members.map(\.createdAt).max() ?? first.createdAt, text: text)
        var body = String(decoding: try SlipwayJSON.encoder().encode(head), as: UTF8.self)
        body.removeLast()  // the closing brace: the members' own bodies follow, verbatim
        body += (body.hasSuffix("{") ? "" : ",") + "\"notifications\":[" + members.map(\.body).joined(separator: ",") + "]}"
        return NotificationInfo(id: first.id, key: key, channel: first.channel, environment: first.environment, eventId: first.eventId,
                                eventType: "alert.group", severity: severity, text: text, body: body, attempts: members.map(\.attempts).min() ?? 0,
                                nextAttemptAt: first.nextAttemptAt, createdAt: first.createdAt)
    }
}
