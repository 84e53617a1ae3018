import Foundation
import Logging
import SlipwayCore
import SlipwayStore

extension Signals {
    /// Opens an incident in `environment`, or joins the one open there (raising its severity if this is
    /// worse). An automatic rollback names the release and deployment that went bad (not the one serving
    /// after the rollback) and mitigates the incident, with the rollback as its mitigation.
    func raiseIncident(_ environment: String, severity: Severity, title: String, trigger: String, cause: IncidentCause, now: Date) async {
        let stats = try? await router.stats()
        var rollback: AutomaticRollback?
        if case .automaticRollback(let r) = cause { rollback = r }
        // Re-read after the await: another trigger may have opened one meanwhile.
        if var open = (try? store.signals.incidents(environment: environment, openOnly: true, limit: 1))?.first {
            open.severity = min(open.severity, severity)
            var change: EventPayload.Incident.Change = .joined
            if let rollback, open.status == .investigating {
                open.status = .mitigated
                open.mitigatedAt = now
                open.mitigationDeploymentId = open.mitigationDeploymentId ?? rollback.rollback.id
                (open.requestsAtEnd, open.errorsAtEnd) = endCounters(open, stats: stats)
                change = .mitigated
            }
            saveIncident(open) { i in
                Event(time: now, environment: environment, payload: .incident(.init(change: change, incidentId: i.id, title: i.title, severity: i.severity,
                                                                                   status: i.status, detail: trigger)))
            }
            return
        }
        var incident = IncidentInfo(environment: environment, title: title, severity: severity, trigger: trigger, openedAt: now)
        incident.cause = cause.kind
        if let rollback {
            incident.release = rollback.release
            incident.deploymentId = rollback.deploymentId
            incident.causeDeploymentId = rollback.deploymentId
            incident.releaseSince = rollback.since
            incident.mitigationDeploymentId = rollback.rollback.id
            incident.status = .mitigated
            incident.mitigatedAt = now
            let pool = stats?[environment]?[rollback.release]
            incident.requestsAtOpen = pool?.requests
            incident.errorsAtOpen = pool.map { $0.responses5xx }
        } else if let release = (try? store.environment(environment))?.currentRelease {
            if case .failedDeployment(let id) = cause { incident.causeDeploymentId = id }
            incident.release = release
            let brought = (try? store.deployments(environment: environment, limit: 200))?.first { $0.version == release && $0.state == .succeeded }
            incident.deploymentId = brought?.id
            incident.releaseSince = brought?.finishedAt
            let pool = stats?[environment]?[release]
            incident.requestsAtOpen = pool?.requests
            incident.errorsAtOpen = pool.map { $0.responses5xx }
            if let pool { incidentCounters[environment] = (release, pool.requests, pool.responses5xx) }
        }
        let saved = saveIncident(incident) { i in
            Event(time: now, environment: environment, deploymentId: i.deploymentId,
                  payload: .incident(.init(change: .opened, incidentId: i.id, title: i.title, severity: i.severity, status: i.status, detail: trigger)))
        }
        if let saved { logger.warning("incident opened", metadata: ["incident.id": "\(saved.id)", "incident.env": "\(environment)", "incident.title": "\(title)"]) }
    }

    /// Saves an incident with its event; a failure is counted and logged (the alert loop tries again on its next pass).
    @discardableResult
    func saveIncident(_ incident: IncidentInfo, event: (IncidentInfo) -> Event) -> IncidentInfo? {
        logger.write("save incident \(incident.id) in \(incident.environment)", to: store) { () throws(SlipwayError) in
            try store.signals.saveIncident(incident, event: event)
        }
    }

    /// The live release's counters now (or the last ones seen, when its pool is gone after a rollback).
    func endCounters(_ i: IncidentInfo, stats: RouterStatsReport?) -> (Int?, Int?) {
        if let release = i.release, let pool = stats?[i.environment]?[release] { return (pool.requests, pool.responses5xx) }
        if let last = incidentCounters[i.environment], last.release == i.release { return (last.requests, last.errors) }
        return (nil, nil)
    }

    /// From the alert loop: remembers the live release's counters while an incident is open, and mitigates
    /// an incident once no P0/P1 alert fires in its environment any more.
    func followIncidents(_ environment: String, stats: RouterStatsReport?, firingSevere: Bool, resolvedAlert: String?, now: Date) {
        guard var open = (try? store.signals.incidents(environment: environment, openOnly: true, limit: 1))?.first else { return }
        if let release = open.release, let pool = stats?[environment]?[release] { incidentCounters[environment] = (release, pool.requests, pool.responses5xx) }
        let byAlert = open.cause.map { $0 == .alert } ?? open.trigger.hasPrefix("alert ")  // nil: stored before causes were typed
        guard let resolvedAlert, !firingSevere, open.status == .investigating, byAlert else { return }
        open.status = .mitigated
        open.mitigatedAt = now
        (open.requestsAtEnd, open.errorsAtEnd) = endCounters(open, stats: stats)
        saveIncident(open) { i in
            Event(time: now, environment: environment, payload: .incident(.init(change: .mitigated, incidentId: i.id, title: i.title, severity: i.severity,
                                                                               status: i.status, detail: "alert \(resolvedAlert) resolved")))
        }
    }
}

/// What raises an incident.
enum IncidentCause: Sendable {
    case alert(String)
    case failedDeployment(Int64)
    case automaticRollback(AutomaticRollback)

    var kind: IncidentInfo.Cause {
        switch self {
        case .alert: .alert
        case .failedDeployment: .failedDeployment
        case .automaticRollback: .automaticRollback
        }
    }
}
