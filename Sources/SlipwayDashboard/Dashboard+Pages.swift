import Foundation
import SlipwayCore
import SlipwayEngine

extension Dashboard {
    public func overview(viewer: Viewer) async throws -> String {
        let statuses = try await engine.reports.status(environment: nil)
        let history = try engine.reports.history(environment: nil, limit: 200)
        let traffic = await engine.signals.traffic
        var commits: [String: String] = [:]
        for r in engine.releaseBuilds.list() { if let c = r.gitCommit { commits[r.version] = c } }
        let now = Date()
        var fleetLines: [String: String] = [:]
        for s in statuses {
            if let env = await engine.config.environments[s.name], let line = await fleetLine(env) { fleetLines[s.name] = line }
        }
        let envs: [[String: Any]] = statuses.map { s in
            var e = environmentSummary(s)
            if let line = fleetLines[s.name] { e["fleet"] = line }
            let live = traffic.points[s.name]?[s.currentRelease ?? ""] ?? []
            e["rps"] = SVGChart(title: "\(s.name) requests/s", unit: "/s", series: [.init(name: "rps", points: live.map { ($0.time, $0.rps) }, style: "s-rps")]).render(now: now)
            e["errors"] = SVGChart(title: "\(s.name) error rate", unit: "%", series: [.init(name: "errors", points: live.map { ($0.time, $0.errorRate) }, style: "s-err")]).render(now: now)
            e["p95"] = SVGChart(title: "\(s.name) p95", unit: "ms", series: [.init(name: "p95", points: live.map { ($0.time, $0.p95Ms) }, style: "s-p95")]).render(now: now)
            if let running = history.first(where: { $0.environment == s.name && $0.finishedAt == nil }) {
                e["deploying"] = "#\(running.id) \(running.version) (\(running.state.rawValue))"
            }
            if let commit = commits[s.currentRelease ?? ""] { e["commit"] = String(commit.prefix(12)) }
            return e
        }
        return page("overview", title: "Overview", ["environments": envs], viewer: viewer)
    }

    func environmentSummary(_ s: EnvironmentStatus) -> [String: Any] {
        var e: [String: Any] = ["name": s.name, "live": s.currentRelease ?? "nothing deployed", "strategy": s.strategy.rawValue]
        if let p = s.previousRelease { e["previous"] = p }
        if let m = s.maintenance { e["maintenance"] = "\(m.mode.rawValue) (by \(m.actor))" }
        if let l = s.lock { e["lock"] = "\(l.holder)" + (l.deploymentId.map { " (deployment \($0))" } ?? "") }
        if let c = s.canary { e["canary"] = "\(c.release) at \(c.weight)%" }
        e["instances"] = s.instances.map { i -> [String: Any] in
            ["release": i.release, "slot": i.slot, "state": i.state.rawValue,
             "health": i.ready ? "ready" : (i.state == .running ? "not ready" : "—"), "healthClass": i.ready ? "ok" : (i.state == .running ? "bad" : ""),
             "cpu": i.cpu.map { String(format: "%.1f%%", $0 * 100) } ?? "—", "rss": i.rssBytes.map(ByteFormat.bytes) ?? "—"]
        }
        return e
    }

    public func alerts(viewer: Viewer) async throws -> String {
        let alerts = try await engine.signals.alerts(environment: nil).filter { $0.state == .firing || $0.state == .pending }
            .sorted { ($0.severity, $0.since) < ($1.severity, $1.since) }
        let incidents = try await engine.signals.incidentList(environment: nil, openOnly: false)
        let c: [String: Any] = [
            "alerts": alerts.map { a -> [String: Any] in
                var row: [String: Any] = ["severity": a.severity.rawValue, "severityClass": "sev-\(a.severity.rawValue)", "environment": a.environment,
                                          "name": a.name, "state": a.state.rawValue + (a.silencedUntil != nil ? " (silenced)" : ""),
                                          "since": Self.time(a.since), "summary": a.summary]
                if let r = a.runbook, r.hasPrefix("https://") || r.hasPrefix("http://") { row["runbook"] = r }
                return row
            },
            "incidents": incidents.map { i -> [String: Any] in
                ["id": i.id, "severity": i.severity.rawValue, "environment": i.environment, "status": i.status.rawValue,
                 "opened": Self.time(i.openedAt), "title": i.title]
            },
        ]
        return page("alerts", title: "Alerts and incidents", c, viewer: viewer)
    }

    public func incident(_ id: Int64, viewer: Viewer) async throws -> String {
        let d = try await engine.signals.incidentDetail(id)
        let i = d.incident
        let review = IncidentReview.markdown(d, now: Date())
        let c: [String: Any] = ["id": i.id, "title": i.title, "severity": i.severity.rawValue, "environment": i.environment, "status": i.status.rawValue,
                                "opened": Self.time(i.openedAt),
                                "timeline": d.timeline.map { ["time": Self.time($0.time), "text": $0.text + ($0.actor.map { " (\($0))" } ?? "")] as [String: Any] },
                                "review": review, "reviewHTML": ReviewHTML.render(review)]
        return page("incident", title: "Incident \(id)", c, viewer: viewer)
    }
}
