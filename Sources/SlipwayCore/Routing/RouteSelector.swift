/// Picks the route of one listening address for a request: the most specific host first (an exact name,
/// then a wildcard of the first label, then a route for any host), and within it the longest path prefix.
/// Built once per table, so a request costs a lowercased host, two dictionary lookups and a few prefix
/// comparisons.
public struct RouteSelector: Sendable {
    /// A route as selected: the environment's name and what to take off the path.
    public struct Choice: Sendable, Equatable {
        public var name: String
        /// The prefix to take off the request's path before it goes on (nil: the path goes as it is).
        public var strip: String?
        /// The route's position in the list the selector was built from.
        public var index: Int

        public init(name: String, strip: String?, index: Int = 0) {
            self.name = name
            self.strip = strip
            self.index = index
        }

        public static func == (a: Choice, b: Choice) -> Bool { a.name == b.name && a.strip == b.strip }
    }

    struct Candidate: Sendable {
        var index: Int
        var name: String
        var path: String?
        var strip: Bool
    }

    /// Exact host → candidates, longest path first.
    let exact: [String: [Candidate]]
    /// The domain after `*.` → candidates, longest path first.
    let wildcard: [String: [Candidate]]
    /// Routes without hosts, longest path first.
    let anyHost: [Candidate]

    /// `routes`: each environment's name and match (a name may appear once).
    public init(_ routes: [(name: String, match: RouteMatch)]) {
        var exact: [String: [Candidate]] = [:], wildcard: [String: [Candidate]] = [:], anyHost: [Candidate] = []
        for (index, (name, match)) in routes.enumerated() {
            let c = Candidate(index: index, name: name, path: match.path, strip: match.stripPrefix)
            if match.hosts.isEmpty { anyHost.append(c) }
            for host in match.hosts {
                if host.hasPrefix("*.") { wildcard[String(host.dropFirst(2)), default: []].append(c) } else { exact[host, default: []].append(c) }
            }
        }
        func longestFirst(_ list: [Candidate]) -> [Candidate] { list.sorted { ($0.path?.count ?? 0) > ($1.path?.count ?? 0) } }
        self.exact = exact.mapValues(longestFirst)
        self.wildcard = wildcard.mapValues(longestFirst)
        self.anyHost = longestFirst(anyHost)
    }

    /// The route for a request with this `Host` (nil: none sent) and target; nil: no route (a 404).
    public func select(host: String?, target: Substring) -> Choice? {
        select(host: host) { target }
    }

    /// As `select(host:target:)`, reading the target only when a route with a path is a candidate.
    public func select(host: String?, target: () -> Substring) -> Choice? {
        var read: Substring?
        func path() -> Substring {
            if let read { return read }
            let t = target()
            read = t
            return t
        }
        if let host {
            let h = RouteMatch.normalized(host)
            if !exact.isEmpty, let list = exact[h], let c = Self.first(list, path) { return c }
            if !wildcard.isEmpty, let dot = h.utf8.firstIndex(of: UInt8(ascii: ".")),
               let list = wildcard[String(decoding: h.utf8[h.utf8.index(after: dot)...], as: UTF8.self)], let c = Self.first(list, path) {
                return c
            }
        }
        return Self.first(anyHost, path)
    }

    static func first(_ list: [Candidate], _ target: () -> Substring) -> Choice? {
        for c in list {
            guard let path = c.path else { return Choice(name: c.name, strip: nil, index: c.index) }
            if RouteMatch.under(target(), prefix: path) { return Choice(name: c.name, strip: c.strip && path != "/" ? path : nil, index: c.index) }
        }
        return nil
    }

    /// Two routes that would claim the same requests: the same host (or both any host) and the same path.
    /// Each conflict names both environments.
    public static func conflicts(_ routes: [(name: String, match: RouteMatch)]) -> [(first: String, second: String, host: String, path: String)] {
        var seen: [String: String] = [:]
        var out: [(String, String, String, String)] = []
        for (name, match) in routes {
            for host in match.hosts.isEmpty ? ["*"] : match.hosts {
                let key = host + " " + (match.path ?? "/")
                if let other = seen[key], other != name { out.append((other, name, host, match.path ?? "/")) } else { seen[key] = name }
            }
        }
        return out
    }
}
