import Foundation
import SlipwayCore
import SlipwayEngine

extension Dashboard {
    /// The environment page lists this many canary decisions (the deployment page lists all of them).
    static let decisionsShown = 50

    public func environment(_ name: String, viewer: Viewer) async throws -> String {
        guard let s = try await engine.reports.status(environment: name).first else { throw SlipwayError.notFound("no environment '\(name)'") }
        var e = environmentSummary(s)
        e["env"] = name
        let canDeploy = viewer.may(.deployer)
        if canDeploy { e["canDeploy"] = true }
        if let c = s.canary {
            var canary: [String: Any] = ["release": c.release, "stable": c.stable, "step": c.step + 1, "steps": c.steps, "weight": c.weight,
                                         "stableWeight": 100 - c.weight, "env": name]
            if let last = c.last { canary["verdict"] = "\(last.decision.rawValue): \(last.detail)" }
            if canDeploy { canary["canDeploy"] = true }
            e["canary"] = canary
        }
        // Every decision of the latest canary, newest first, each with its rules' verdicts and evidence.
        let status = try engine.canaries.status(environment: name)
        let decisions = status.decisions.reversed().compactMap(Self.decision)
        if !decisions.isEmpty {
            var section: [String: Any] = ["rows": Array(decisions.prefix(Self.decisionsShown)), "deployment": status.deploymentId ?? 0]
            if decisions.count > Self.decisionsShown { section["older"] = decisions.count - Self.decisionsShown }
            e["decisions"] = section
        }
        let now = Date()
        let traffic = await engine.signals.traffic.points[name] ?? [:]
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
        let config = await engine.config.environments[name]
        if config?.router.tls != nil, let certs = try? await engine.routing.certificates() {
            var rows = certs.filter { $0.environment == name }.map { Self.certificateRow($0, now: now) }
            if let config, let kept = await fleetCertificate(config) { rows.append(Self.certificateRow(kept, now: now)) }
            e["certificates"] = rows
            if !rows.isEmpty { e["hasCertificates"] = true }
        }
        if let config, let fleet = await fleetSection(config) { e["fleet"] = fleet }
        if let accessories = s.accessories, !accessories.isEmpty {
            e["hasAccessories"] = true
            e["accessories"] = accessories.map { a -> [String: Any] in
                ["name": a.name, "state": a.state.rawValue, "bad": a.state == .crashed || (a.state == .running && !a.ready), "pid": a.pid.map(String.init) ?? "-",
                 "ready": a.ready ? "yes" : "no", "restarts": a.restarts, "started": a.startedAt.map { Self.time($0) } ?? "-",
                 "note": !a.configured ? "not in slipway.yml" : (a.drift ? "config changed: slipway accessory restart \(a.name) applies it" : "")]
            }
        }
        if let types = s.processes, !types.isEmpty {
            e["hasProcessTypes"] = true
            e["processTypes"] = types.flatMap { t in
                t.processes.isEmpty ? [["type": t.name, "release": "-", "slot": "-", "state": "none (\(t.wanted) wanted)", "bad": t.wanted > 0, "pid": "-", "restarts": 0,
                                        "started": "-"] as [String: Any]]
                    : t.processes.map { p -> [String: Any] in
                        ["type": t.name + (t.singleton ? " (singleton)" : ""), "release": p.release, "slot": p.slot, "state": p.state.rawValue, "bad": p.state == .crashed,
                         "pid": p.pid.map(String.init) ?? "-", "restarts": p.restarts, "started": Self.time(p.startedAt)]
                    }
            }
        }
        let history = try engine.reports.history(environment: name, limit: 30)
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
        let p = try engine.reports.progress(id, after: 0)
        let d = p.deployment
        var c: [String: Any] = ["id": d.id, "version": d.version, "environment": d.environment, "state": d.state.rawValue, "stateClass": Self.stateClass(d.state),
                                "kind": d.kind.rawValue, "actor": d.onBehalfOf.map { "\(d.actor) for \($0)" } ?? d.actor, "started": Self.time(d.startedAt)]
        if let m = d.message { c["message"] = m }
        if let f = d.finishedAt { c["took"] = Self.duration(f.timeIntervalSince(d.startedAt)) }
        c["steps"] = p.events.map { ["time": Self.time($0.time), "state": $0.state.rawValue, "detail": $0.detail] as [String: Any] }
        let decisions = try engine.events.events(ofDeployment: d.id, typePrefix: "canary.").compactMap(Self.decision)
        if !decisions.isEmpty { c["decisions"] = ["rows": decisions, "deployment": d.id] as [String: Any] }
        let approval = try engine.approvals.status(id)
        if approval.required > 0 || !approval.approvals.isEmpty {
            c["approvals"] = ["required": approval.required, "counting": approval.counting,
                              "rows": approval.approvals.map { a -> [String: Any] in
                                  var row: [String: Any] = ["user": a.user, "decision": a.decision, "time": Self.time(a.time),
                                                            "decisionClass": a.decision == "approve" ? "ok" : "bad"]
                                  if let comment = a.comment, !comment.isEmpty { row["comment"] = comment }
                                  return row
                              }] as [String: Any]
        }
        let log = (try? String(contentsOfFile: d.logFile, encoding: .utf8)) ?? ""
        c["log"] = log.count > 200_000 ? "…\n" + String(log.suffix(200_000)) : log
        return page("deployment", title: "Deployment \(id)", c, viewer: viewer)
    }

    /// A canary decision as a row: what changed, both releases' figures, and each rule's verdict with its evidence.
    static func decision(_ event: Event) -> [String: Any]? {
        guard case .canary(let c) = event.payload else { return nil }
        var row: [String: Any] = ["time": time(event.time), "change": c.change.rawValue, "step": c.step, "weight": c.weight, "detail": c.detail,
                                  "changeClass": c.change == .aborted ? "bad" : (c.change == .promoted ? "ok" : "")]
        guard let a = c.analysis else { return row }
        let ms = CanaryJudge.milliseconds, percent = CanaryJudge.percent
        row["figures"] = true
        row["canaryFigures"] = "\(c.release): \(a.canary.requests) requests, \(percent(a.canary.rate)) errors" + (a.canaryP99Ms.map { ", p99 \(ms($0))" } ?? "")
        row["stableFigures"] = "\(c.stable): \(a.stable.requests) requests, \(percent(a.stable.rate)) errors" + (a.stableP99Ms.map { ", p99 \(ms($0))" } ?? "")
        if let w = a.window { row["window"] = w }
        row["verdicts"] = a.verdicts.map { v -> [String: Any] in
            var evidence: [String] = []
            if let n = v.requests { evidence.append("\(n) canary requests") }
            if let llr = v.llr {
                let bound = v.llrFailAt.map { String(format: " (fails at %.2f)", $0) } ?? ""
                evidence.append(String(format: "log-likelihood ratio %.2f", llr) + bound
                                + (v.confidence.map { String(format: ", P(canary worse) %.1f%%", $0 * 100) } ?? ""))
            }
            let verdictClass = switch v.verdict {
            case .pass: "ok"
            case .fail: "bad"
            case .hold: "warn"
            }
            var out: [String: Any] = ["rule": v.rule, "verdict": v.verdict.rawValue, "detail": v.detail, "verdictClass": verdictClass]
            if !evidence.isEmpty { out["evidence"] = evidence.joined(separator: ", ") }
            return out
        }
        return row
    }

    /// A certificate the environment serves, as the environment page lists it.
    static func certificateRow(_ c: CertificateInfo, now: Date) -> [String: Any] {
        var row: [String: Any] = ["hosts": c.shownHosts.joined(separator: ", "), "address": c.address, "issuer": c.issuer ?? "-",
                                  "source": c.acme.map { $0.placeholder ? "ACME (pending)" : "ACME" } ?? "file"]
        if let end = c.notAfter {
            row["notAfter"] = time(end)
            let days = Int(end.timeIntervalSince(now) / 86_400)
            row["days"] = days
            if days < 14 { row["soon"] = true }
        }
        if let a = c.acme {
            row["renewed"] = a.lastRenewal.map(time) ?? "-"
            row["next"] = a.nextAttempt.map(time) ?? "-"
        }
        if let error = [c.error, c.acme?.lastError].compactMap({ $0 }).first { row["error"] = error }
        return row
    }
}
