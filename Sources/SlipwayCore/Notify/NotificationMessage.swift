import Foundation

/// What one event says to people and machines: its category, severity and a line of text. Pure.
public struct NotificationMessage: Sendable, Equatable {
    public var category: NotificationCategory
    public var severity: Severity
    public var text: String

    /// The message for `event`, or nil when no notification category covers it (an instance start, a note,
    /// a pending alert).
    public init?(_ event: Event) {
        let env = event.environment.map { "\($0): " } ?? ""
        switch event.payload {
        case .deployment(let d):
            guard d.change == .transition else { return nil }
            switch d.state {
            case .awaitingApproval:
                category = .approval
                severity = .p3
                text = "\(env)deployment \(event.deploymentId ?? 0) of \(d.version) awaits approval"
            case .succeeded, .failed, .rolledBack:
                // A deploy that ended rolled back (a gate, the analysis, a person's canary abort) is a rollback too.
                category = d.kind == .rollback || d.state == .rolledBack ? .rollback : .deploy
                severity = d.state == .succeeded ? .p3 : .p2
                text = "\(env)\(d.kind.rawValue) of \(d.version) \(d.state == .rolledBack ? "rolled back" : d.state.rawValue)"
                    + (d.detail.isEmpty ? "" : ": \(d.detail)")
            default:
                return nil
            }
        case .alert(let a):
            guard a.change == .firing || a.change == .repeated || a.change == .resolved else { return nil }
            category = .alert
            severity = a.severity
            text = "[\(a.severity.rawValue)] \(env)\(a.name) \(a.change == .repeated ? "still firing" : a.change.rawValue): \(a.summary)" + (a.runbook.map { " · runbook: \($0)" } ?? "")
        case .backup(let b):
            guard b.change == .created || b.change == .failed || (b.change == .verified && !b.ok) else { return nil }
            category = .backup
            severity = b.ok ? .p3 : .p2
            text = "\(env)backup \(b.change == .verified ? "verification failed" : b.change.rawValue)"
                + (b.backupId.map { " \($0)" } ?? "") + (b.detail.isEmpty ? "" : ": \(b.detail)")
        case .incident(let i):
            guard i.change != .note && i.change != .acknowledged else { return nil }
            category = .incident
            severity = i.severity
            text = "[\(i.severity.rawValue)] \(env)incident \(i.incidentId) \(i.change.rawValue): \(i.title)" + (i.detail.isEmpty ? "" : " — \(i.detail)")
        case .drill(let d):
            category = .backup
            severity = d.ok ? .p3 : .p2
            text = "\(env)restore drill \(d.ok ? "passed" : "failed"): RTO \(d.rtoMs) ms from \(d.backupId)" + (d.message.map { ": \($0)" } ?? "")
        default:
            return nil
        }
    }

    /// Whether `settings` wants this message.
    public func wanted(by settings: NotifySettings) -> Bool {
        settings.categories.contains(category) && settings.minSeverity.map { severity.meets($0) } ?? true
    }
}
