import Foundation
import GRDB
import SlipwayCore

extension SignalRecords {
    public func cursor(_ name: String) throws(SlipwayError) -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT event_id FROM cursors WHERE name = ?", arguments: [name]) ?? 0 }
    }

    /// Queues `rows` (a key already queued is skipped) and moves the cursor to `through`, in one transaction:
    /// an event is queued once, whatever happens to the daemon.
    public func enqueueNotifications(_ rows: [NotificationInfo], cursor name: String, through eventId: Int64) throws(SlipwayError) {
        try write { db in
            for r in rows {
                try db.execute(sql: """
                    INSERT OR IGNORE INTO notifications (key, channel, environment, event_id, event_type, severity, text, body, state, attempts, next_attempt_at, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
                    """, arguments: [r.key, r.channel, r.environment, r.eventId, r.eventType, r.severity.rawValue, r.text, r.body, r.nextAttemptAt, r.createdAt])
            }
            try db.execute(sql: "INSERT INTO cursors (name, event_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET event_id = excluded.event_id",
                           arguments: [name, eventId])
        }
    }

    public func dueNotifications(now: Date, limit: Int = 20) throws(SlipwayError) -> [NotificationInfo] {
        try read { db in
            try NotificationRow.filter(NotificationRow.Columns.state == NotificationInfo.State.pending.rawValue && NotificationRow.Columns.nextAttemptAt <= now)
                .order(NotificationRow.Columns.id).limit(limit).fetchAll(db).map(\.notification)
        }
    }

    /// Alert notifications still in their first `group_wait` (never attempted, not due yet): an alert of their
    /// channel and environment queued meanwhile leaves with them.
    public func waitingAlerts(now: Date) throws(SlipwayError) -> [NotificationInfo] {
        try read { db in
            try NotificationRow.filter(NotificationRow.Columns.state == NotificationInfo.State.pending.rawValue && NotificationRow.Columns.nextAttemptAt > now
                                       && NotificationRow.Columns.attempts == 0 && NotificationRow.Columns.eventType.like("alert.%"))
                .order(NotificationRow.Columns.id).fetchAll(db).map(\.notification)
        }
    }

    public func notifications(limit: Int = 100) throws(SlipwayError) -> [NotificationInfo] {
        try read { db in try NotificationRow.order(NotificationRow.Columns.id.desc).limit(limit).fetchAll(db).map(\.notification) }
    }

    /// The outcome of one attempt.
    public func recordAttempt(_ id: Int64, delivered: Bool, error: String?, now: Date) throws(SlipwayError) {
        try write { db in
            guard var n = try NotificationRow.fetchOne(db, key: id)?.notification, n.state == .pending else { return }
            n.attempts += 1
            if delivered {
                n.state = .sent
                n.sentAt = now
                n.lastError = nil
            } else {
                n.lastError = error
                n.state = n.attempts >= NotificationInfo.maxAttempts ? .failed : .pending
                n.nextAttemptAt = now.addingTimeInterval(NotificationInfo.backoff(afterFailures: n.attempts))
            }
            try NotificationRow(n).update(db)
        }
    }
}

extension SignalRecords {
    /// Pending rows a silence holds back: never sent (`silenced`), kept for the record.
    public func markSilenced(_ ids: [Int64], now: Date) throws(SlipwayError) {
        try write { db in
            for id in ids {
                try db.execute(sql: "UPDATE notifications SET state = ?, last_error = ? WHERE id = ? AND state = ?",
                               arguments: [NotificationInfo.State.silenced.rawValue, "silenced before it was sent", id, NotificationInfo.State.pending.rawValue])
            }
        }
    }

    /// How many notifications are in each state.
    public func notificationCounts() throws(SlipwayError) -> [String: Int] {
        try read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM notifications GROUP BY state") { out[row["state"]] = row["n"] }
            return out
        }
    }
}
