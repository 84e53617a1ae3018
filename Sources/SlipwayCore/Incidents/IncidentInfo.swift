import Foundation

/// An incident: opened by a firing P0/P1 alert, an automatic rollback or a failed deploy (or joined by
/// them while one is open in the environment), linked to the release that was live and the deployment
/// that brought it. investigating → mitigated → resolved → closed, each with its time.
public struct IncidentInfo: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable { case investigating, mitigated, resolved, closed }

    public var id: Int64
    public var environment: String
    public var title: String
    public var severity: Severity
    public var status: Status
    /// What opened it: `alert high-error-rate`, `automatic rollback of deployment 12`, `failed deployment 9`.
    public var trigger: String
    /// The release live when it opened, and the deployment that made it live.
    public var release: String?
    public var deploymentId: Int64?
    /// When that release started serving (for the detection time).
    public var releaseSince: Date?
    public var openedAt: Date
    public var acknowledgedAt: Date?
    public var acknowledgedBy: String?
    public var mitigatedAt: Date?
    public var resolvedAt: Date?
    public var closedAt: Date?
    /// What opened it, as a type (the trigger is the line for people): `alert`, `automatic_rollback`,
    /// `failed_deployment`. Nil on incidents stored before Slipway recorded it.
    public var cause: Cause?
    /// The deployment the cause names: the deploy that failed, or the one an automatic rollback undid.
    public var causeDeploymentId: Int64?
    /// The deployment that mitigated it: the automatic rollback.
    public var mitigationDeploymentId: Int64?

    public enum Cause: String, Codable, Sendable, Equatable {
        case alert
        case automaticRollback = "automatic_rollback"
        case failedDeployment = "failed_deployment"
    }

    /// The live release's router counters when it opened and when it was mitigated or resolved (impact).
    public var requestsAtOpen: Int?
    public var errorsAtOpen: Int?
    public var requestsAtEnd: Int?
    public var errorsAtEnd: Int?

    public init(id: Int64 = 0, environment: String, title: String, severity: Severity, trigger: String, openedAt: Date) {
        self.id = id
        self.environment = environment
        self.title = title
        self.severity = severity
        self.status = .investigating
        self.trigger = trigger
        self.openedAt = openedAt
    }

    public var isOpen: Bool { status == .investigating || status == .mitigated }

    enum CodingKeys: String, CodingKey {
        case id, environment, title, severity, status, trigger, release
        case deploymentId = "deployment_id", releaseSince = "release_since", openedAt = "opened_at", acknowledgedAt = "acknowledged_at"
        case acknowledgedBy = "acknowledged_by", mitigatedAt = "mitigated_at", resolvedAt = "resolved_at", closedAt = "closed_at"
        case requestsAtOpen = "requests_at_open", errorsAtOpen = "errors_at_open", requestsAtEnd = "requests_at_end", errorsAtEnd = "errors_at_end"
        case cause, causeDeploymentId = "cause_deployment_id", mitigationDeploymentId = "mitigation_deployment_id"
    }
}

/// One line of an incident's timeline, from the event log, the audit log and its notes.
public struct IncidentTimelineEntry: Codable, Sendable, Equatable {
    public var time: Date
    /// `deploy`, `rollback`, `alert`, `incident`, `note`, `action`.
    public var kind: String
    public var text: String
    public var actor: String?
    public init(time: Date, kind: String, text: String, actor: String? = nil) {
        self.time = time
        self.kind = kind
        self.text = text
        self.actor = actor
    }
}

/// `slipway incident show ID`: the incident and its timeline.
public struct IncidentDetail: Codable, Sendable, Equatable {
    public var incident: IncidentInfo
    public var timeline: [IncidentTimelineEntry]
    public init(incident: IncidentInfo, timeline: [IncidentTimelineEntry]) {
        self.incident = incident
        self.timeline = timeline
    }
}

/// `POST /v1/incidents/ID`: `note` (with text), `ack`, `mitigate`, `resolve`, `close`.
public struct IncidentActionBody: Codable, Sendable {
    public var action: String
    public var text: String?
    public init(action: String, text: String?) {
        self.action = action
        self.text = text
    }
    enum CodingKeys: String, CodingKey { case action, text }
}

public typealias IncidentActionRequest = Attributed<IncidentActionBody>

extension Attributed where Body == IncidentActionBody {
    public init(action: String, text: String?, actor: String) {
        self.init(IncidentActionBody(action: action, text: text), actor: actor)
    }
}
