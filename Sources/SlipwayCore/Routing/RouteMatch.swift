/// Which requests on a shared listener are an environment's: its hosts (exact names, or `*.` and a
/// domain for any one label in front of it) and an optional path prefix. No hosts: any host. No path:
/// every path. `RouteSelector` picks among the routes of one address.
public struct RouteMatch: Codable, Sendable, Equatable, Hashable {
    /// Lowercased, without a trailing dot: `shop.example.com`, `*.preview.example.com`.
    public var hosts: [String]
    /// `/api`: `/api` itself and everything under `/api/`, not `/apiary`. Nil: every path.
    public var path: String?
    /// Whether the prefix is taken off before the request goes on (`/api/orders` → `/orders`).
    public var stripPrefix: Bool

    public init(hosts: [String] = [], path: String? = nil, stripPrefix: Bool = false) {
        self.hosts = hosts.map(Self.normalized)
        self.path = path
        self.stripPrefix = stripPrefix
    }

    enum CodingKeys: String, CodingKey { case hosts, path, stripPrefix = "strip_prefix" }

    /// `hosts shop.example.com path /api (stripped)`, for people.
    public var summary: String {
        [hosts.isEmpty ? nil : "hosts " + hosts.joined(separator: ","), path.map { "path \($0)" + (stripPrefix ? " (stripped)" : "") }]
            .compactMap { $0 }.joined(separator: " ")
    }

    /// Matches everything: the only route of a listener that is not shared.
    public var isCatchAll: Bool { hosts.isEmpty && path == nil }

    /// A `Host` value as routes compare it: lowercase ASCII, no port, no trailing dot.
    public static func normalized(_ host: String) -> String {
        // On the bytes (it runs for every request on a shared address): no grapheme breaking, and no
        // copy when the value is already as routes compare it.
        let u = host.utf8
        var end = u.endIndex
        if u.first == UInt8(ascii: "[") {
            if let close = u.firstIndex(of: UInt8(ascii: "]")) { end = u.index(after: close) }
        } else if let colon = u.lastIndex(of: UInt8(ascii: ":")) {
            end = colon
        }
        if end > u.startIndex, u[u.index(before: end)] == UInt8(ascii: ".") { end = u.index(before: end) }
        let slice = u[u.startIndex..<end]
        if slice.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) { return String(decoding: slice, as: UTF8.self).lowercased() }
        return end == u.endIndex ? host : String(decoding: slice, as: UTF8.self)
    }

    /// Whether `name` (a host, or a certificate's DNS name, which may itself be `*.domain`) is one of `hosts`: the
    /// same name, or one label under a wildcard. A route without hosts covers no name in particular.
    public func covers(_ name: String) -> Bool {
        let n = Self.normalized(name)
        if hosts.contains(n) { return true }
        guard !n.hasPrefix("*."), let dot = n.firstIndex(of: ".") else { return false }
        return hosts.contains("*" + n[dot...])
    }

    /// Why `pattern` is not a host a route can claim (nil: it is). A wildcard is `*.` followed by at
    /// least two labels, and only in the leftmost label.
    public static func problem(host pattern: String) -> String? {
        let p = normalized(pattern)
        guard !p.isEmpty, p.count <= 253 else { return "expected a host name like shop.example.com, got '\(pattern)'" }
        var labels = p.split(separator: ".", omittingEmptySubsequences: false)
        if labels.first == "*" {
            labels.removeFirst()
            guard labels.count >= 2 else { return "a wildcard covers one label of a domain with at least two labels, like *.example.com; got '\(pattern)'" }
        }
        for label in labels {
            guard !label.isEmpty, label.count <= 63 else { return "expected a host name like shop.example.com, got '\(pattern)'" }
            if label.contains("*") { return "a wildcard is the whole leftmost label only (*.example.com), got '\(pattern)'" }
            guard label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }), label.first != "-", label.last != "-" else {
                return "expected a host name of letters, digits, '-' and '.', got '\(pattern)'"
            }
        }
        return nil
    }

    /// Why `path` is not a prefix a route can claim (nil: it is).
    public static func problem(path: String) -> String? {
        guard path.hasPrefix("/") else { return "expected a path starting with '/', like /api; got '\(path)'" }
        guard path == "/" || !path.hasSuffix("/") else { return "expected a path without a trailing '/', like /api; got '\(path)'" }
        guard !path.contains(where: { $0 == "?" || $0 == "#" || $0 == " " || $0 == "*" }) else {
            return "expected a plain path prefix (no query, fragment, space or wildcard), got '\(path)'"
        }
        return nil
    }

    /// Whether `target` (a request target: path and query) is under `prefix`, on a segment boundary.
    public static func under(_ target: Substring, prefix: String) -> Bool {
        if prefix == "/" { return true }
        guard target.hasPrefix(prefix) else { return false }
        let rest = target.dropFirst(prefix.count)
        guard let next = rest.first else { return true }
        return next == "/" || next == "?"
    }
}
