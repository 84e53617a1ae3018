import Yams

/// `alerts:`: the alert rules.
enum AlertsSection {
    /// `alerts: [{ name, expr, for, keep_firing_for, severity, runbook, prometheus: { url, query } }]`.
    static func alertList(_ node: Node, reader: ConfigReader) -> [AlertSettings] {
        guard case .sequence(let items) = node else {
            reader.problem(node, "alerts", "expected a list of { name, expr, severity, … }")
            return []
        }
        var alerts: [AlertSettings] = []
        let reserved = Set(AlertSettings.BuiltIn.allCases.map(\.rawValue))
        for (i, item) in items.enumerated() {
            let path = "alerts[\(i)]"
            guard let entries = reader.mapping(item, path, allowed: ["name", "expr", "for", "keep_firing_for", "severity", "runbook", "prometheus", "repeat"]) else { continue }
            func value(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
            var name: String?, rule: Rule?, severity = Severity.p2
            var pendingFor = Duration.zero, keepFiringFor = Duration.zero, runbook: String?, prometheus: ProviderSettings?
            if let n = value("name"), let s = reader.string(n, "\(path).name") {
                if !ReleaseVersion.isSimpleName(s) { reader.problem(n, "\(path).name", "expected a name of a-z, 0-9 and '-', got '\(s)'") }
                else if reserved.contains(s) { reader.problem(n, "\(path).name", "'\(s)' is a built-in alert; pick another name") }
                else if alerts.contains(where: { $0.name == s }) { reader.problem(n, "\(path).name", "'\(s)' is already used by another alert") }
                else { name = s }
            }
            if let n = value("expr"), let text = reader.string(n, "\(path).expr") {
                do {
                    let r = try RuleParser.parse(text)
                    if r.threshold.needsBaseline { reader.problem(n, "\(path).expr", "'\(text)': an alert compares with a number (baselines are for canaries)") }
                    else if r.sustained != nil { reader.problem(n, "\(path).expr", "'\(text)': put the duration in the alert's for: key") }
                    else { rule = r }
                } catch { reader.problem(n, "\(path).expr", "'\(text)', \(error)") }
            }
            if let n = value("severity"), let s = reader.string(n, "\(path).severity") {
                if let v = Severity(rawValue: s.uppercased()) { severity = v } else { reader.problem(n, "\(path).severity", "expected P0, P1, P2 or P3, got '\(s)'") }
            }
            if let n = value("for") { pendingFor = reader.duration(n, "\(path).for", allowZero: true) ?? .zero }
            if let n = value("keep_firing_for") { keepFiringFor = reader.duration(n, "\(path).keep_firing_for", allowZero: true) ?? .zero }
            if let n = value("runbook") { runbook = reader.string(n, "\(path).runbook") }
            var repeatEvery: Duration?
            if let n = value("repeat") { repeatEvery = reader.duration(n, "\(path).repeat", allowZero: true) }
            if let n = value("prometheus"), let endpoint = AnalysisSection.providerEndpoint("prometheus", n, "\(path).prometheus", reader: reader) {
                prometheus = ProviderSettings(source: endpoint.source, ca: endpoint.ca)
                if let rule, rule.metric != .value { reader.problem(n, "\(path).expr", "a prometheus alert judges the query's result: write its expr on value, like \"value > 1\"") }
            }
            for key in ["name", "expr"] where value(key) == nil { reader.problem(item, "\(path).\(key)", "missing required key") }
            if let name, let rule {
                var a = AlertSettings(name: name, rule: rule, pendingFor: pendingFor, keepFiringFor: keepFiringFor, severity: severity,
                                      runbook: runbook, prometheus: prometheus)
                if let repeatEvery { a.repeatEvery = repeatEvery }
                alerts.append(a)
            }
        }
        return alerts
    }
}
