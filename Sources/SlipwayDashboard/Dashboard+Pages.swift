import Foundation
import SlipwayCore
import SlipwayEngine

extension Dashboard {
    static let backupsShown = 100

    public func overview(viewer: Viewer) async throws -> String {
        let statuses = try await engine.status(environment: nil)
        let history = try await engine.history(environment: nil, limit: 200)
        let traffic = await engine.traffic
        var commits: [String: String] = [:]
        for r in await engine.releaseList() { if let c = r.gitCommit { commits[r.version] = c } }
        let now = Date()
        let envs: [[String: Any]] = statuses.map { s in
            var e = environmentSummary(s)
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

    public func environment(_ name: String, viewer: Viewer) async throws -> String {
        guard let s = try await engine.status(environment: name).first else { throw SlipwayError.notFound("no environment '\(name)'") }
        var e = environmentSummary(s)
        e["env"] = name
        let canDeploy = viewer.may(.deployer)
        if canDeploy { e["canDeploy"] = true }
        if let c = s.canary {
            var canary: [String: Any] = ["release": c.release, "stable": c.stable, "step": c.step + 1, "steps": c.steps, "weight": c.weight,
                                         "stableWeight": 100 - c.weight, "env": name]
            if let last = c.last { canary["verdict"] = "\(last.decision): \(last.detail)" }
            if canDeploy { canary["canDeploy"] = true }
            e["canary"] = canary
        }
        let now = Date()
        let traffic = await engine.traffic.points[name] ?? [:]
        e["traffic"] = traffic.keys.sorted().map { release -> [String: Any] in
            let p = traffic[release] ?? []
            return ["release": release,
                    "rps": SVGChart(title: "\(release) requests/s", unit: "/s", series: [.init(name: "rps", points: p.map { ($0.time, $0.rps) }, style: "s-rps")]).render(now: now),
                    "errors": SVGChart(title: "\(release) 5xx rate", unit: "%", series: [.init(name: "5xx", points: p.map { ($0.time, $0.errorRate) }, style: "s-err")]).render(now: now),
                    "latency": SVGChart(title: "\(release) latency", unit: "ms", series: [
                        .init(name: "p50", points: p.map { ($0.time, $0.p50Ms) }, style: "s-p50"),
                        .init(name: "p95", points: p.map { ($0.time, $0.p95Ms) }, style: "s-p95"),
                        .init(name: "p99", points: p.map { ($0.time, $0.p99Ms) }, style: "s-p99")]).render(now: now)]
        }
        let history = try await engine.history(environment: name, limit: 30)
        let waiting = history.filter { $0.state == .awaitingApproval }
        if !waiting.isEmpty {
            // Who may decide is the environment's `approvals.roles`; the engine checks it (and refuses the requester's own).
            let roles = await engine.config.environments[name]?.governance.approvals?.roles ?? []
            let canApprove = roles.contains { viewer.may($0) }
            e["pending"] = ["requests": waiting.map { d -> [String: Any] in
                var r: [String: Any] = ["id": d.id, "version": d.version, "actor": d.onBehalfOf.map { "\(d.actor) for \($0)" } ?? d.actor,
                                        "started": Self.time(d.startedAt), "env": name]
                if canApprove && d.actor != viewer.user { r["canApprove"] = true }
                return r
            }]
        }
        e["history"] = history.map { d -> [String: Any] in
            ["id": d.id, "version": d.version, "kind": d.kind.rawValue, "state": d.state.rawValue, "stateClass": Self.stateClass(d.state),
             "actor": d.onBehalfOf.map { "\(d.actor) for \($0)" } ?? d.actor, "started": Self.time(d.startedAt),
             "took": d.finishedAt.map { Self.duration($0.timeIntervalSince(d.startedAt)) } ?? "running"]
        }
        return page("environment", title: name, e, viewer: viewer)
    }

    public func deployment(_ id: Int64, viewer: Viewer) async throws -> String {
        let p = try await engine.progress(id, after: 0)
        let d = p.deployment
        var c: [String: Any] = ["id": d.id, "version": d.version, "environment": d.environment, "state": d.state.rawValue, "stateClass": Self.stateClass(d.state),
                                "kind": d.kind.rawValue, "actor": d.onBehalfOf.map { "\(d.actor) for \($0)" } ?? d.actor, "started": Self.time(d.startedAt)]
        if let m = d.message { c["message"] = m }
        if let f = d.finishedAt { c["took"] = Self.duration(f.timeIntervalSince(d.startedAt)) }
        c["steps"] = p.events.map { ["time": Self.time($0.time), "state": $0.state.rawValue, "detail": $0.detail] as [String: Any] }
        let log = (try? String(contentsOfFile: d.logFile, encoding: .utf8)) ?? ""
        c["log"] = log.count > 200_000 ? "…\n" + String(log.suffix(200_000)) : log
        return page("deployment", title: "Deployment \(id)", c, viewer: viewer)
    }

    public func backups(viewer: Viewer) async throws -> String {
        let names = await engine.config.environmentNames
        let now = Date()
        var envs: [[String: Any]] = []
        for name in names {
            let list = try await engine.listBackups(environment: name)
            let drills = try await engine.drills(environment: name)
            var e: [String: Any] = ["name": name]
            // The newest 100: the page stays quick with years of backups (`slipway backup list` has them all).
            if list.count > Self.backupsShown { e["older"] = "\(list.count - Self.backupsShown) older backup(s) not shown; slipway backup list --env \(name) lists every one." }
            e["backups"] = list.prefix(Self.backupsShown).map { b -> [String: Any] in
                ["id": b.id, "taken": Self.time(b.createdAt), "age": Self.duration(now.timeIntervalSince(b.createdAt)), "size": ByteFormat.bytes(b.size),
                 "stores": b.locations.count, "reason": b.reason,
                 "verified": b.verifyOk.map { $0 ? "ok" : "FAILED" } ?? "not yet", "verifyClass": b.verifyOk.map { $0 ? "ok" : "bad" } ?? ""]
            }
            e["drills"] = drills.map { r -> [String: Any] in
                ["when": Self.time(r.startedAt), "backup": r.backupId, "rto": Self.duration(Double(r.rtoMs) / 1000),
                 "target": r.rtoTargetMs.map { Self.duration(Double($0) / 1000) } ?? "—", "rpo": Self.duration(Double(r.rpoSeconds)),
                 "result": r.ok ? (r.rtoMet == false ? "over RTO" : "passed") : "FAILED", "resultClass": r.ok && r.rtoMet != false ? "ok" : "bad"]
            }
            if !drills.isEmpty {
                let ordered = drills.sorted { $0.startedAt < $1.startedAt }
                let span = max(3600, now.timeIntervalSince(ordered.first!.startedAt) * 1.05)
                var series = [SVGChart.Series(name: "RTO", points: ordered.map { ($0.startedAt, Double($0.rtoMs)) }, style: "s-p95")]
                if let target = ordered.last?.rtoTargetMs {
                    series.append(.init(name: "target", points: [(now.addingTimeInterval(-span), Double(target)), (now, Double(target))], style: "s-target"))
                }
                e["rtoChart"] = SVGChart(title: "\(name) drill RTO", unit: "ms", series: series, width: 480, height: 80, span: span).render(now: now)
            }
            envs.append(e)
        }
        return page("backups", title: "Backups", ["environments": envs], viewer: viewer)
    }

    public func alerts(viewer: Viewer) async throws -> String {
        let alerts = try await engine.alerts(environment: nil).filter { $0.state == .firing || $0.state == .pending }
            .sorted { ($0.severity, $0.since) < ($1.severity, $1.since) }
        let incidents = try await engine.incidentList(environment: nil, openOnly: false)
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
        let d = try await engine.incidentDetail(id)
        let i = d.incident
        let c: [String: Any] = ["id": i.id, "title": i.title, "severity": i.severity.rawValue, "environment": i.environment, "status": i.status.rawValue,
                                "opened": Self.time(i.openedAt),
                                "timeline": d.timeline.map { ["time": Self.time($0.time), "text": $0.text + ($0.actor.map { " (\($0))" } ?? "")] as [String: Any] },
                                "review": IncidentReview.markdown(d, now: Date())]
        return page("incident", title: "Incident \(id)", c, viewer: viewer)
    }

    public func dora(viewer: Viewer, environment: String?) async throws -> String {
        let r = try await engine.report(environment: environment, since: .seconds(90 * 86400))
        func row(_ name: String, _ m: DORAReport.Metric) -> [String: Any] {
            let value: String
            switch (m.value, m.unit) {
            case (nil, _): value = "not measured"
            case (let v?, "ratio"): value = String(format: "%.1f%%", v * 100)
            case (let v?, "seconds"): value = Self.duration(v)
            case (let v?, let unit): value = String(format: "%.2f %@", v, unit) + (m.bucket.map { " (\($0))" } ?? "")
            }
            return ["name": name, "value": value, "tier": m.tier?.rawValue ?? "—", "detail": m.detail]
        }
        let c: [String: Any] = ["scope": r.environment, "since": Self.time(r.from),
                                "metrics": [row("deployment frequency", r.deploymentFrequency), row("lead time for changes", r.leadTime),
                                            row("change failure rate", r.changeFailureRate), row("failed deployment recovery time", r.recoveryTime),
                                            row("deployment rework rate", r.reworkRate)]]
        return page("dora", title: "DORA", c, viewer: viewer)
    }
}
