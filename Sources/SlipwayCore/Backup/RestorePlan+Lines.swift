import Foundation

extension RestorePlan {
    /// The plan with its lines for people: what is lost (writes after the point, or those not archived yet; the data
    /// changes of deployments begun after it) and what is kept (code, backups, sources not restored, or the live data
    /// when the restore writes elsewhere). `others`: the environment's sources this restore leaves alone.
    public static func make(environment: String, label: String, point: Date?, target: String, sources: [Source], deployments: [Deployment],
                            others: [Source], maxLag: Duration?, now: Date) -> RestorePlan {
        let iso = ISO8601DateFormatter()
        let names = sources.map(\.name).joined(separator: ", ")
        let later = target == "in place" && point != nil ? deployments.sorted { $0.id < $1.id } : []
        var lost: [String] = []
        var kept = ["releases, configuration and the running code", "backups and the continuous archive"]
        if target != "in place" {
            kept.insert("the live data: the restore writes to \(target)", at: 0)
        } else if let point {
            lost.append("writes to \(names) after \(iso.string(from: point)) (\(age(now.timeIntervalSince(point))) of them, until now)")
            for d in later {
                lost.append("the data changes of deployment \(d.id) (\(d.version), begun \(iso.string(from: d.startedAt))); its code keeps running")
            }
        } else {
            let lag = sources.compactMap(\.lagSeconds).max()
            lost.append("writes to \(names) not archived yet: " + (lag.map { "about \(age($0)) behind right now" } ?? "at most max_lag")
                        + (maxLag.map { " (max_lag \(age(Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18)))" } ?? ""))
        }
        if !others.isEmpty { kept.append("sources not restored: " + others.map { "\($0.name) (\($0.kind))" }.joined(separator: ", ")) }
        return RestorePlan(environment: environment, label: label, point: point, target: target, sources: sources,
                           deploymentsAfter: later, lost: lost, kept: kept)
    }

    /// 0.4 s, 12 s under a minute (a lag is often under one); above, as `DurationParsing.human`: 4m 10s, 2h 5m, 3d 4h.
    static func age(_ seconds: Double) -> String {
        let s = max(0, seconds)
        if s < 60 { return String(format: s < 10 ? "%.1f s" : "%.0f s", s) }
        return DurationParsing.human(.milliseconds(Int64(s * 1000)))
    }

    /// The plan as `slipway backup restore` prints it before it asks (or goes on, with --yes).
    public var lines: [String] {
        let iso = ISO8601DateFormatter()
        var out = ["Plan: restore \(environment)'s \(sources.map { "\($0.name) (\($0.kind))" }.joined(separator: ", ")) \(target) from \(label)"]
        for s in sources {
            guard let until = s.archivedUntil else { continue }
            out.append("  \(s.name): holds writes up to \(iso.string(from: until))" + (s.lagSeconds.map { ", \(Self.age($0)) behind now" } ?? ""))
        }
        out += lost.map { "  lost: \($0)" }
        out += kept.map { "  kept: \($0)" }
        return out
    }
}
