import Yams

/// Walks YAML nodes, converting values and collecting every problem with its position.
final class ConfigReader {
    let file: String
    private(set) var problems: [ConfigProblem] = []
    /// The file declares shared state (`state:`): a fleet environment's ACME certificate is its controller's, so a private
    /// CA's file (`router.acme.ca`) is read by the controller only, not where the config snapshot is parsed on a host.
    var sharedState = false
    /// Set while an environment with `hosts` is read.
    var fleetEnvironment = false

    init(file: String) { self.file = file }

    func problem(_ node: Node?, _ path: String, _ message: String) {
        let mark = node?.mark
        let p = ConfigProblem(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, path: path, message: message)
        if !problems.contains(p) { problems.append(p) }
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return "'\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The entries of a mapping; reports keys that are not in `allowed` (when given).
    func mapping(_ node: Node, _ path: String, allowed: [String]? = nil) -> [(key: String, keyNode: Node, value: Node)]? {
        if case .scalar(let s) = node, node.null != nil || s.string.isEmpty { return [] }
        guard case .mapping(let mapping) = node else {
            problem(node, path, "expected a mapping, got \(describe(node))")
            return nil
        }
        var entries: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else {
                problem(keyNode, path, "expected a string key, got \(describe(keyNode))")
                continue
            }
            if let allowed, !allowed.contains(key) {
                problem(keyNode, Self.join(path, key), "unknown key; expected one of: \(allowed.joined(separator: ", "))")
                continue
            }
            entries.append((key, keyNode, value))
        }
        return entries
    }

    func string(_ node: Node, _ path: String) -> String? {
        guard case .scalar(let s) = node, node.null == nil else {
            problem(node, path, "expected a string, got \(describe(node))")
            return nil
        }
        return s.string
    }

    func int(_ node: Node, _ path: String, min: Int, max: Int = Int.max) -> Int? {
        guard case .scalar = node, let value = node.int, value >= min, value <= max else {
            let range = max == Int.max ? "≥ \(min)" : "from \(min) to \(max)"
            problem(node, path, "expected an integer \(range), got \(describe(node))")
            return nil
        }
        return value
    }

    func duration(_ node: Node, _ path: String, allowZero: Bool = false) -> Duration? {
        guard case .scalar(let s) = node, let d = DurationParsing.parse(s.string), allowZero || d > .zero else {
            problem(node, path, "expected a duration like 500ms, 10s, 5m or 1h\(allowZero ? "" : " (above zero)"), got \(describe(node))")
            return nil
        }
        return d
    }

    func stringList(_ node: Node, _ path: String) -> [String]? {
        guard case .sequence(let seq) = node else {
            problem(node, path, "expected a list of strings, got \(describe(node))")
            return nil
        }
        var out: [String] = []
        for (i, item) in seq.enumerated() {
            if let s = string(item, "\(path)[\(i)]") { out.append(s) }
        }
        return out
    }

    func scalarMap(_ node: Node, _ path: String) -> [String: String]? {
        guard let entries = mapping(node, path) else { return nil }
        var out: [String: String] = [:]
        for e in entries {
            guard case .scalar(let s) = e.value else {
                problem(e.value, Self.join(path, e.key), "expected a string, number or boolean, got \(describe(e.value))")
                continue
            }
            out[e.key] = s.string
        }
        return out
    }

    /// Deep-merges `over` onto `base`: mappings merge key by key, anything else replaces.
    static func merge(_ base: Node, _ over: Node) -> Node {
        guard case .mapping(let b) = base, case .mapping(let o) = over else { return over }
        var pairs: [(Node, Node)] = b.map { ($0.key, $0.value) }
        for (key, value) in o {
            if let index = pairs.firstIndex(where: { $0.0.string == key.string }) {
                pairs[index].1 = merge(pairs[index].1, value)
            } else {
                pairs.append((key, value))
            }
        }
        return .mapping(.init(pairs, b.tag, b.style, b.mark))
    }
}
