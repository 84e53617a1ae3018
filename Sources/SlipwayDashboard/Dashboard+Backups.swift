import Foundation
import SlipwayCore
import SlipwayEngine

extension Dashboard {
    static let backupsShown = 100

    public func backups(viewer: Viewer) async throws -> String {
        let names = await engine.config.environmentNames
        let now = Date()
        var envs: [[String: Any]] = []
        let archives = await engine.continuous.statuses()
        for name in names {
            let list = try engine.backups.list(environment: name)
            let drills = try engine.backups.drills(environment: name)
            // What the next `backup prune` (or the scheduled one) does with each, and which rules decide.
            var retention: [String: PruneDecision] = [:]
            for d in try engine.backups.retention(environment: name, backups: list) { retention[d.id] = d }
            var e: [String: Any] = ["name": name]
            // The newest 100: the page stays quick with years of backups (`slipway backup list` has them all).
            if list.count > Self.backupsShown { e["older"] = "\(list.count - Self.backupsShown) older backup(s) not shown; slipway backup list --env \(name) lists every one." }
            e["backups"] = list.prefix(Self.backupsShown).map { b -> [String: Any] in
                var row: [String: Any] = ["id": b.id, "taken": Self.time(b.createdAt), "age": Self.duration(now.timeIntervalSince(b.createdAt)),
                                          "size": ByteFormat.bytes(b.size), "stores": b.locations.count, "reason": b.reason,
                                          "verified": b.verifyOk.map { $0 ? "ok" : "FAILED" } ?? "not yet", "verifiedAt": b.verifiedAt.map { Self.time($0) } ?? "", "verifyClass": b.verifyOk.map { $0 ? "ok" : "bad" } ?? ""]
                if let d = retention[b.id] {
                    row["retention"] = (d.keep ? "kept: " : "next prune removes it: ") + d.reasons.joined(separator: "; ")
                    row["retentionClass"] = d.keep ? "" : "warn"
                } else {
                    row["retention"] = "—"
                }
                return row
            }
            let continuous = archives.filter { $0.environment == name }
            if !continuous.isEmpty {
                e["hasContinuous"] = true
                e["continuous"] = continuous.map { Self.archiveRow($0) }
            }
            e["drills"] = drills.map { r -> [String: Any] in
                let missed = [r.rtoMet == false ? "over RTO" : nil, r.rpoMet == false ? "over RPO" : nil].compactMap { $0 }
                return ["when": Self.time(r.startedAt), "backup": r.backupId, "rto": Self.duration(Double(r.rtoMs) / 1000),
                        "rtoTarget": r.rtoTargetMs.map { Self.duration(Double($0) / 1000) } ?? "—", "rpo": Self.duration(Double(r.rpoSeconds)),
                        "rpoTarget": r.rpoTargetSeconds.map { Self.duration(Double($0)) } ?? "—",
                        "result": r.ok ? (missed.isEmpty ? "passed" : missed.joined(separator: ", ")) : "FAILED", "resultClass": r.ok && missed.isEmpty ? "ok" : "bad"]
            }
            if !drills.isEmpty {
                let ordered = drills.sorted { $0.startedAt < $1.startedAt }
                let span = max(3600, now.timeIntervalSince(ordered.first!.startedAt) * 1.05)
                e["rtoChart"] = Self.againstTarget("\(name) drill RTO", unit: "s", ordered.map { ($0.startedAt, Double($0.rtoMs) / 1000) },
                                                   target: ordered.last?.rtoTargetMs.map { Double($0) / 1000 }, span: span, now: now)
                e["rpoChart"] = Self.againstTarget("\(name) drill RPO", unit: "s", ordered.map { ($0.startedAt, Double($0.rpoSeconds)) },
                                                   target: ordered.last?.rpoTargetSeconds.map(Double.init), span: span, now: now)
            }
            envs.append(e)
        }
        return page("backups", title: "Backups", ["environments": envs], viewer: viewer)
    }

    /// One continuous archive: where it is, how far behind, what its slot keeps, and why it is not archiving when it is not.
    static func archiveRow(_ c: ContinuousStatus) -> [String: Any] {
        ["source": c.source, "generation": c.generation ?? "—", "shipped": c.lastShipped.map { Self.time($0) } ?? "nothing yet",
                "lag": c.lagSeconds.map { Self.duration($0) } ?? "—",
                "retained": c.retainedBytes.map { ByteFormat.bytes($0) } ?? "—",
                "state": c.error ?? "archiving", "stateClass": c.error == nil ? "ok" : "bad"]
    }

    /// A drill measure over time, with its target as a dashed line.
    static func againstTarget(_ title: String, unit: String, _ points: [(time: Date, value: Double?)], target: Double?, span: TimeInterval, now: Date) -> String {
        var series = [SVGChart.Series(name: "measured", points: points, style: "s-p95")]
        if let target { series.append(.init(name: "target", points: [(now.addingTimeInterval(-span), target), (now, target)], style: "s-target")) }
        return SVGChart(title: title, unit: unit, series: series, width: 480, height: 80, span: span).render(now: now)
    }
}
