import Yams

extension ConfigLoader {
    /// Parses `analysis:`; each rule's syntax error names its list item and the column in the rule.
    static func analysis(_ node: Node, reader: ConfigReader) -> AnalysisSettings? {
        guard let entries = reader.mapping(node, "analysis", allowed: ["interval", "min_requests", "rules"]) else { return nil }
        var settings = AnalysisSettings()
        for e in entries {
            let path = "analysis.\(e.key)"
            switch e.key {
            case "interval": settings.interval = reader.duration(e.value, path) ?? settings.interval
            case "min_requests": settings.minRequests = reader.int(e.value, path, min: 1) ?? settings.minRequests
            default:
                guard case .sequence(let items) = e.value else {
                    reader.problem(e.value, path, "expected a list of rules like \"error_rate > baseline + 1%\", got \(reader.describe(e.value))")
                    continue
                }
                for (i, item) in items.enumerated() {
                    let itemPath = "\(path)[\(i)]"
                    guard let text = reader.string(item, itemPath) else { continue }
                    do { settings.rules.append(try RuleParser.parse(text)) } catch {
                        reader.problem(item, itemPath, "'\(text)', \(error)")
                    }
                }
            }
        }
        return settings
    }
}
