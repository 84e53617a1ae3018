import Foundation
import SlipwayCore
import SlipwayStore

extension Signals {
    public func incidentList(environment: String?, openOnly: Bool) throws(SlipwayError) -> [IncidentInfo] {
        if let environment { _ = try config.environment(environment) }
        return try store.signals.incidents(environment: environment, openOnly: openOnly)
    }

    /// The incident and its timeline: deploys, rollbacks, alerts and its own changes and notes from the event
    /// log, and who started what from the audit log, from shortly before the release it concerns went live.
    public func incidentDetail(_ id: Int64, now: Date = Date()) throws(SlipwayError) -> IncidentDetail {
        guard let i = try store.signals.incident(id) else { throw .notFound("no incident \(id); slipway incident list shows them") }
        let from = max(i.openedAt.addingTimeInterval(-3600), (i.releaseSince ?? i.openedAt).addingTimeInterval(-60))
        let to = (i.closedAt ?? i.resolvedAt ?? now).addingTimeInterval(60)
        var timeline: [IncidentTimelineEntry] = []
        for e in try store.events(environment: i.environment, from: from, to: to) {
            switch e.payload {
            case .deployment(let d) where d.change == .transition && [.succeeded, .failed, .rolledBack].contains(d.state):
                timeline.append(.init(time: e.time, kind: d.kind.rawValue, text: "\(d.kind.rawValue) of \(d.version) (deployment \(e.deploymentId ?? 0)) "
                                      + "\(d.state == .rolledBack ? "rolled back" : d.state.rawValue): \(d.detail)"))
            case .alert(let a) where a.change != .pending && a.change != .repeated:
                timeline.append(.init(time: e.time, kind: "alert", text: "[\(a.severity.rawValue)] \(a.name) \(a.change.rawValue): \(a.summary)"))
            case .incident(let x) where x.incidentId == id:
                let text = x.change == .note || x.detail.hasPrefix(x.change.rawValue) ? x.detail : "\(x.change.rawValue): \(x.detail)"
                timeline.append(.init(time: e.time, kind: x.change == .note ? "note" : "incident", text: text, actor: x.actor))
            default:
                break
            }
        }
        let started = try store.access.auditEntries(limit: 500, environment: i.environment, since: from).filter { a in
            a.time <= to && ["deploy", "rollback"].contains(a.action) && a.outcome == "started"
                || ["maintenance.on", "maintenance.off", "alert.silence", "scale", "lock.release", "backup.restore", "canary.abort", "canary.promote"].contains(a.action)
        }
        for a in started {
            timeline.append(.init(time: a.time, kind: "action", text: "\(a.action) \(a.target) \(a.outcome)" + (a.detail.isEmpty ? "" : ": \(a.detail)"), actor: a.actor))
        }
        timeline.sort { $0.time < $1.time }
        return IncidentDetail(incident: i, timeline: timeline)
    }

    /// `note`, `ack`, `mitigate`, `resolve`, `close`: each recorded as an event (the timeline) and audited.
    public func incidentAction(_ id: Int64, _ request: IncidentActionRequest) async throws(SlipwayError) -> IncidentInfo {
        guard var i = try store.signals.incident(id) else { throw .notFound("no incident \(id); slipway incident list shows them") }
        let who = request.by
        let now = Date()
        let before = i.status
        var detail = ""
        let change: EventPayload.Incident.Change
        switch request.action {
        case "note":
            guard let text = request.text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { throw .usage("a note needs text") }
            detail = String(text.prefix(2000))
            change = .note
        case "ack":
            guard i.acknowledgedAt == nil else { throw .usage("incident \(id) was acknowledged by \(i.acknowledgedBy ?? "someone") already") }
            i.acknowledgedAt = now
            i.acknowledgedBy = who.name
            change = .acknowledged
        case "mitigate", "resolve":
            guard i.isOpen else { throw .usage("incident \(id) is \(i.status.rawValue) already") }
            let stats = try? await router.stats()
            // Re-read after the await.
            guard var fresh = try store.signals.incident(id), fresh.isOpen else { throw .usage("incident \(id) is no longer open") }
            if fresh.requestsAtEnd == nil { (fresh.requestsAtEnd, fresh.errorsAtEnd) = endCounters(fresh, stats: stats) }
            i = fresh
            if request.action == "mitigate" {
                guard i.status == .investigating else { throw .usage("incident \(id) is mitigated already") }
                i.status = .mitigated
                i.mitigatedAt = now
                change = .mitigated
            } else {
                i.status = .resolved
                i.resolvedAt = now
                change = .resolved
            }
        case "close":
            guard i.status == .resolved else { throw .usage("incident \(id) is \(i.status.rawValue): resolve it before closing it") }
            i.status = .closed
            i.closedAt = now
            change = .closed
        default:
            throw .usage("expected note, ack, mitigate, resolve or close, got '\(request.action)'")
        }
        if detail.isEmpty { detail = "\(change.rawValue) by \(who.name)" + (request.text.map { ": \($0)" } ?? "") }
        let saved = try store.signals.saveIncident(i) { x in
            Event(time: now, environment: x.environment, payload: .incident(.init(change: change, incidentId: x.id, title: x.title, severity: x.severity,
                                                                                 status: x.status, detail: detail, actor: who.name)))
        }
        try store.audit(who, action: "incident.\(request.action)", target: "\(i.environment)/incident-\(id)", outcome: "ok", detail: detail,
                    before: before.rawValue, after: saved.status.rawValue)
        return saved
    }
}
