/// A git ref pattern as CI systems write them: `*` matches within one path segment, `**` across
/// segments, `?` one character; anything else matches itself. `release/*` takes `release/1.2`,
/// not `release/1.2/hotfix`.
public struct GlobPattern: Sendable, Equatable, CustomStringConvertible {
    public let pattern: String
    public init(_ pattern: String) { self.pattern = pattern }
    public var description: String { pattern }

    public func matches(_ text: String) -> Bool {
        Self.match(Array(pattern.unicodeScalars), 0, Array(text.unicodeScalars), 0)
    }

    private static func match(_ p: [Unicode.Scalar], _ pi: Int, _ t: [Unicode.Scalar], _ ti: Int) -> Bool {
        guard pi < p.count else { return ti == t.count }
        switch p[pi] {
        case "*":
            let deep = pi + 1 < p.count && p[pi + 1] == "*"
            let next = pi + (deep ? 2 : 1)
            var i = ti
            while true {
                if match(p, next, t, i) { return true }
                guard i < t.count, deep || t[i] != "/" else { return false }
                i += 1
            }
        case "?":
            return ti < t.count && t[ti] != "/" && match(p, pi + 1, t, ti + 1)
        default:
            return ti < t.count && t[ti] == p[pi] && match(p, pi + 1, t, ti + 1)
        }
    }
}
