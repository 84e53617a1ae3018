import Yams

/// `autoscale:`.
enum AutoscaleSection {
    /// `autoscale: { min, max, out: { expr, for, step }, in: { expr, for, step }, cooldown }`.
    static func autoscale(_ node: Node, reader: ConfigReader) -> AutoscaleSettings? {
        guard let entries = reader.mapping(node, "autoscale", allowed: ["min", "max", "out", "in", "cooldown"]) else { return nil }
        func value(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
        guard let minNode = value("min"), let maxNode = value("max") else {
            reader.problem(node, value("min") == nil ? "autoscale.min" : "autoscale.max", "missing required key (1-64)")
            return nil
        }
        guard let lo = reader.int(minNode, "autoscale.min", min: 1, max: 64), let hi = reader.int(maxNode, "autoscale.max", min: 1, max: 64) else { return nil }
        guard lo <= hi else {
            reader.problem(maxNode, "autoscale.max", "expected at least min (\(lo)), got \(hi)")
            return nil
        }
        var s = AutoscaleSettings(min: lo, max: hi)
        if let n = value("cooldown") { s.cooldown = reader.duration(n, "autoscale.cooldown", allowZero: true) ?? s.cooldown }
        for key in ["out", "in"] {
            guard let n = value(key), let fields = reader.mapping(n, "autoscale.\(key)", allowed: ["expr", "for", "step"]) else { continue }
            var rule: Rule?, holdFor = Duration.zero, step = 1
            for f in fields {
                let path = "autoscale.\(key).\(f.key)"
                switch f.key {
                case "expr":
                    guard let text = reader.string(f.value, path) else { continue }
                    do {
                        let r = try RuleParser.parse(text)
                        if r.threshold.needsBaseline || r.sustained != nil {
                            reader.problem(f.value, path, "'\(text)': compare with a number and put the duration in for:")
                        } else { rule = r }
                    } catch { reader.problem(f.value, path, "'\(text)', \(error)") }
                case "for": holdFor = reader.duration(f.value, path, allowZero: true) ?? .zero
                default: step = reader.int(f.value, path, min: 1, max: 64) ?? 1
                }
            }
            if fields.first(where: { $0.key == "expr" }) == nil { reader.problem(n, "autoscale.\(key).expr", "missing required key (a rule like \"cpu > 70%\")") }
            guard let rule else { continue }
            if key == "out" { s.out = .init(rule: rule, holdFor: holdFor, step: step) } else { s.in = .init(rule: rule, holdFor: holdFor, step: step) }
        }
        return s
    }
}
