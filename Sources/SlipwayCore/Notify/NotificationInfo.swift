import Foundation

/// One outbox row: an event on its way to one channel.
public struct NotificationInfo: Codable, Sendable, Equatable {
    /// `silenced`: an alert's notification that was waiting (group_wait, a retry) when a silence began; never sent.
    public enum State: String, Codable, Sendable { case pending, sent, failed, silenced }
    public var id: Int64
    /// The idempotency key (`<channel>-<event id>`), sent as `X-Slipway-Delivery` and `Idempotency-Key`.
    public var key: String
    public var channel: String
    /// The event's environment (nil for one about no environment).
    public var environment: String?
    public var eventId: Int64
    public var eventType: String
    public var severity: Severity
    public var text: String
    /// The JSON sent to a webhook (for Slack and commands it is rendered from it).
    public var body: String
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var createdAt: Date
    public var sentAt: Date?

    public init(id: Int64 = 0, key: String, channel: String, environment: String? = nil, eventId: Int64, eventType: String, severity: Severity, text: String, body: String,
                state: State = .pending, attempts: Int = 0, nextAttemptAt: Date, lastError: String? = nil, createdAt: Date, sentAt: Date? = nil) {
        self.id = id
        self.key = key
        self.channel = channel
        self.environment = environment
        self.eventId = eventId
        self.eventType = eventType
        self.severity = severity
        self.text = text
        self.body = body
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.createdAt = createdAt
        self.sentAt = sentAt
    }

    enum CodingKeys: String, CodingKey {
        case id, key, channel, environment, severity, text, body, state, attempts
        case eventId = "event_id", eventType = "event_type", nextAttemptAt = "next_attempt_at", lastError = "last_error"
        case createdAt = "created_at", sentAt = "sent_at"
    }

    /// Seconds before attempt `n + 1` after `n` failures: 2, 4, 8 … capped at an hour.
    public static func backoff(afterFailures n: Int) -> Double { min(3600, pow(2, Double(max(1, n)))) }
    /// After this many failed attempts a notification is given up (`failed`, kept for `slipway notifications`).
    public static let maxAttempts = 12
}
