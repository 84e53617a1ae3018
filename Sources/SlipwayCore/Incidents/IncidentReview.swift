import Foundation

/// The post-incident review in Markdown, prefilled from the incident and its timeline. Pure.
public enum IncidentReview {
    public static func markdown(_ d: IncidentDetail, now: Date) -> String {
        let i = d.incident
        func time(_ t: Date?) -> String { t.map { $0.formatted(Date.ISO8601FormatStyle()) } ?? "—" }
        func span(_ from: Date?, _ to: Date?) -> String {
            guard let from, let to else { return "—" }
            return DurationParsing.human(.seconds(Int64(max(0, to.timeIntervalSince(from)).rounded())))
        }
        var impact = "Not measured (no live release, or the router restarted during the incident)."
        if let r0 = i.requestsAtOpen, let e0 = i.errorsAtOpen, let r1 = i.requestsAtEnd, let e1 = i.errorsAtEnd, r1 >= r0, e1 >= e0 {
            let requests = r1 - r0, errors = e1 - e0
            let share = requests > 0 ? String(format: "%.1f%%", 100 * Double(errors) / Double(requests)) : "0%"
            impact = "\(errors) of \(requests) requests failed (\(share)) on \(i.release ?? "the live release") between the incident's opening and its \(i.mitigatedAt != nil ? "mitigation" : "resolution")."
        }
        var lines = [
            "# Post-incident review: incident \(i.id) — \(i.title)",
            "",
            "- **Environment:** \(i.environment)",
            "- **Severity:** \(i.severity.rawValue) (\(i.severity.label))",
            "- **Status:** \(i.status.rawValue)",
            "- **Release:** \(i.release ?? "—")" + (i.deploymentId.map { " (deployment \($0))" } ?? ""),
            "",
            "## Summary",
            "",
            "\(i.title). Opened \(time(i.openedAt)) by \(i.trigger); \(i.resolvedAt != nil ? "resolved \(time(i.resolvedAt))" : "not resolved yet").",
            "",
            "## Impact",
            "",
            impact,
            "",
            "## Trigger",
            "",
            i.trigger + (i.release.map { " on release \($0)" } ?? "") + (i.deploymentId.map { ", deployed by deployment \($0)" } ?? "") + ".",
            "",
            "## Detection",
            "",
            "- Release live since: \(time(i.releaseSince))",
            "- Detected (incident opened): \(time(i.openedAt)) — \(span(i.releaseSince, i.openedAt)) after the release went live",
            "- Acknowledged: \(time(i.acknowledgedAt))" + (i.acknowledgedBy.map { " by \($0)" } ?? "") + (i.acknowledgedAt != nil ? " — \(span(i.openedAt, i.acknowledgedAt)) after opening" : ""),
            "",
            "## Resolution",
            "",
            i.mitigatedAt == nil ? "- Mitigated: not recorded" : "- Mitigated: \(time(i.mitigatedAt)) — time to mitigate \(span(i.openedAt, i.mitigatedAt))",
            i.resolvedAt == nil ? "- Resolved: not yet" : "- Resolved: \(time(i.resolvedAt)) — time to resolve \(span(i.openedAt, i.resolvedAt))",
            "- Closed: \(i.closedAt == nil ? "not yet" : time(i.closedAt))",
            "",
            "## Timeline",
            "",
            "| time (UTC) | what | who |",
            "|---|---|---|",
        ]
        for e in d.timeline {
            lines.append("| \(time(e.time)) | \(e.kind): \(e.text.replacingOccurrences(of: "|", with: "\\|")) | \(e.actor ?? "") |")
        }
        lines += [
            "",
            "## Action items",
            "",
            "- [ ] What would have caught this before \(i.environment)? (a test, a canary step, an analysis rule)",
            "- [ ] What would have detected it sooner? (an alert's `for:`, a rule on the failing signal)",
            "- [ ] What made mitigation slower than it could have been?",
            "",
            "_Prefilled by slipway on \(time(now)) from the event and audit logs; edit freely._",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
