import Foundation
import Logging
import SlipwayCore
import SlipwayStore

extension Engine {
    /// Opens an incident in `environment`, or joins the one open there (raising its severity if this is
    /// worse). `mitigating`: the trigger itself mitigated it (an automatic rollback).
    func raiseIncident(_ environment: String, severity: Severity, title: String, trigger: String, mitigating: Bool = false, now: Date) async {
        let stats = try? await router.stats()
        // Re-read after the await: another trigger may have opened one meanwhile.
        if var open = (try? store.incidents(environment: environment, openOnly: true, limit: 1))?.first {
            open.severity = min(open.severity, severity)
            var change: EventPayload.Incident.Change = .joined
            if mitigating, open.status == .investigating {
                open.status = .mitigated
                open.mitigatedAt = now
                (open.requestsAtEnd, open.errorsAtEnd) = endCounters(open, stats: stats)
                change = .mitigated
            }
            _ = try? store.saveIncident(open) { i in
                Event(time: now, environment: environment, payload: .incident(.init(change: change, incidentId: i.id, title: i.title, severity: i.severity,
                                                                                   status: i.status, detail: trigger)))
            }
            return
        }
        var incident = IncidentInfo(environment: environment, title: title, severity: severity, trigger: trigger, openedAt: now)
        if let release = (try? store.environment(environment))?.currentRelease {
            incident.release = release
            let brought = (try? store.deployments(environment: environment, limit: 200))?.first { $0.version == release && $0.state == .succeeded }
            incident.deploymentId = brought?.id
            incident.releaseSince = brought?.finishedAt
            let pool = stats?[environment]?[release]
            incident.requestsAtOpen = pool?.requests
            incident.errorsAtOpen = pool.map { $0.responses5xx }
            if let pool { incidentCounters[environment] = (release, pool.requests, pool.responses5xx) }
        }
        if mitigating {
            incident.status = .mitigated
            incident.mitigatedAt = now
        }
        let saved = try? store.saveIncident(incident) { i in
            Event(time: now, environment: environment, deploymentId: i.deploymentId,
                  payload: .incident(.init(change: .opened, incidentId: i.id, title: i.title, severity: i.severity, status: i.status, detail: trigger)))
        }
        if let saved { logger.warning("incident opened", metadata: ["incident.id": "\(saved.id)", "incident.env": "\(environment)", "incident.title": "\(title)"]) }
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
        guard var open = (try? store.incidents(environment: environment, openOnly: true, limit: 1))?.first else { return }
        if let release = open.release, let pool = stats?[environment]?[release] { incidentCounters[environment] = (release, pool.requests, pool.responses5xx) }
        guard let resolvedAlert, !firingSevere, open.status == .investigating, open.trigger.hasPrefix("alert ") else { return }
        open.status = .mitigated
        open.mitigatedAt = now
        (open.requestsAtEnd, open.errorsAtEnd) = endCounters(open, stats: stats)
        _ = try? store.saveIncident(open) { i in
            Event(time: now, environment: environment, payload: .incident(.init(change: .mitigated, incidentId: i.id, title: i.title, severity: i.severity,
                                                                               status: i.status, detail: "alert \(resolvedAlert) resolved")))
        }
    }
}
