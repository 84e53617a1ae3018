import Yams

/// `canary:`: steps, sticky routing, retries on the stable release.
enum CanarySection {
    /// Parses `canary:` (`instances`, `steps`, `sticky`, `max_step_duration`).
    static func canary(_ node: Node, reader: ConfigReader) -> CanarySettings? {
        guard let entries = reader.mapping(node, "canary", allowed: ["instances", "steps", "sticky", "max_step_duration", "retry_on_stable"]) else { return nil }
        var settings = CanarySettings()
        for e in entries {
            let path = "canary.\(e.key)"
            switch e.key {
            case "instances": settings.instances = reader.int(e.value, path, min: 1, max: 64) ?? settings.instances
            case "max_step_duration": settings.maxStepDuration = reader.duration(e.value, path) ?? settings.maxStepDuration
            case "sticky": settings.sticky = sticky(e.value, path, reader: reader)
            case "retry_on_stable": settings.retryOnStable = reader.bool(e.value, path) ?? false
            default:
                guard case .sequence(let items) = e.value, !items.isEmpty else {
                    reader.problem(e.value, path, "expected a list of steps like { weight: 5, pause: 2m }, got \(reader.describe(e.value))")
                    continue
                }
                settings.steps = items.enumerated().compactMap { step($1, "\(path)[\($0)]", reader: reader) }
                if let first = items.first, settings.steps.first?.weight == nil, !settings.steps.isEmpty {
                    reader.problem(first, "\(path)[0]", "the first step needs a weight (the canary's share of requests, 1 to 99)")
                }
            }
        }
        return settings
    }

    private static func step(_ node: Node, _ path: String, reader: ConfigReader) -> CanaryStep? {
        guard let entries = reader.mapping(node, path, allowed: ["weight", "pause"]) else { return nil }
        var step = CanaryStep()
        for e in entries {
            if e.key == "weight" {
                step.weight = reader.int(e.value, "\(path).weight", min: 1, max: 99)
            } else if e.value.string == "manual" {
                step.pause = .manual
            } else if case .scalar(let s) = e.value, let d = DurationParsing.parse(s.string), d > .zero {
                step.pause = .duration(d)
            } else {
                reader.problem(e.value, "\(path).pause", "expected a duration like 2m, or manual; got \(reader.describe(e.value))")
            }
        }
        guard step.weight != nil || step.pause != nil else {
            reader.problem(node, path, "a step needs a weight, a pause, or both")
            return nil
        }
        return step
    }

    private static func sticky(_ node: Node, _ path: String, reader: ConfigReader) -> StickyRouting? {
        guard let entries = reader.mapping(node, path, allowed: ["cookie", "header"]) else { return nil }
        guard entries.count == 1, let e = entries.first, let name = reader.string(e.value, "\(path).\(e.key)") else {
            if entries.count != 1 { reader.problem(node, path, "expected one of { cookie: NAME } or { header: NAME }") }
            return nil
        }
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !"()<>@,;:\\\"/[]?={}".utf8.contains($0) }) else {
            reader.problem(e.value, "\(path).\(e.key)", "expected a \(e.key) name (letters, digits, - and _), got '\(name)'")
            return nil
        }
        return e.key == "cookie" ? .cookie(name) : .header(name)
    }
}
