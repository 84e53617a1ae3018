import Foundation
import GRDB
import SlipwayCore

/// A `notifications` row: one message for one channel in the outbox (`NotificationInfo` in the API).
struct NotificationRow: FetchableRecord, PersistableRecord {
    static let databaseTableName = "notifications"

    enum Columns {
        static let id = Column("id"), key = Column("key"), channel = Column("channel"), environment = Column("environment")
        static let eventId = Column("event_id"), eventType = Column("event_type"), severity = Column("severity"), text = Column("text")
        static let body = Column("body"), state = Column("state"), attempts = Column("attempts"), nextAttemptAt = Column("next_attempt_at")
        static let lastError = Column("last_error"), createdAt = Column("created_at"), sentAt = Column("sent_at")
    }

    var notification: NotificationInfo

    init(_ notification: NotificationInfo) { self.notification = notification }

    init(row: Row) throws {
        notification = NotificationInfo(id: try row.value(Columns.id), key: try row.value(Columns.key), channel: try row.value(Columns.channel),
                                        environment: try row.value(Columns.environment), eventId: try row.value(Columns.eventId),
                                        eventType: try row.value(Columns.eventType), severity: try row.raw(Columns.severity),
                                        text: try row.value(Columns.text), body: try row.value(Columns.body), state: try row.raw(Columns.state),
                                        attempts: try row.value(Columns.attempts), nextAttemptAt: try row.value(Columns.nextAttemptAt),
                                        lastError: try row.value(Columns.lastError), createdAt: try row.value(Columns.createdAt),
                                        sentAt: try row.value(Columns.sentAt))
    }

    func encode(to container: inout PersistenceContainer) throws {
        container[Columns.id] = notification.id
        container[Columns.key] = notification.key
        container[Columns.channel] = notification.channel
        container[Columns.environment] = notification.environment
        container[Columns.eventId] = notification.eventId
        container[Columns.eventType] = notification.eventType
        container[Columns.severity] = notification.severity.rawValue
        container[Columns.text] = notification.text
        container[Columns.body] = notification.body
        container[Columns.state] = notification.state.rawValue
        container[Columns.attempts] = notification.attempts
        container[Columns.nextAttemptAt] = notification.nextAttemptAt
        container[Columns.lastError] = notification.lastError
        container[Columns.createdAt] = notification.createdAt
        container[Columns.sentAt] = notification.sentAt
    }
}
