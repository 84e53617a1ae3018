import Foundation

/// An alert as `slipway alerts` and `GET /v1/alerts` show it.
public struct AlertInfo: Codable, Sendable, Equatable {
    public var environment: String
    public var name: String
    public var severity: Severity
    public var state: AlertTracker.Phase
    public var since: Date
    public var firedAt: Date?
    public var resolvedAt: Date?
    /// The rule as written, and what was last measured against it.
    public var expr: String
    public var value: String?
    public var summary: String
    public var runbook: String?
    public var builtIn: Bool
    /// Until when notifications about it are held back, why, and by whom.
    public var silencedUntil: Date?
    public var silenceReason: String?

    public init(environment: String, name: String, severity: Severity, state: AlertTracker.Phase, since: Date, expr: String, summary: String,
                builtIn: Bool) {
        self.environment = environment
        self.name = name
        self.severity = severity
        self.state = state
        self.since = since
        self.expr = expr
        self.summary = summary
        self.builtIn = builtIn
    }

    enum CodingKeys: String, CodingKey {
        case environment, name, severity, state, since, expr, value, summary, runbook
        case firedAt = "fired_at", resolvedAt = "resolved_at", builtIn = "built_in", silencedUntil = "silenced_until", silenceReason = "silence_reason"
    }
}

/// `POST /v1/silences`: hold back an alert's notifications for a while (audited; it expires by itself).
public struct SilenceBody: Codable, Sendable {
    public var environment: String?
    public var alert: String
    public var duration: String
    public var reason: String
    public init(environment: String?, alert: String, duration: String, reason: String) {
        self.environment = environment
        self.alert = alert
        self.duration = duration
        self.reason = reason
    }
    enum CodingKeys: String, CodingKey { case environment, alert, duration, reason }
}

public typealias SilenceRequest = Attributed<SilenceBody>

extension Attributed where Body == SilenceBody {
    public init(environment: String?, alert: String, duration: String, reason: String, actor: String) {
        self.init(SilenceBody(environment: environment, alert: alert, duration: duration, reason: reason), actor: actor)
    }
}
