import SlipwayCore

/// Which certificate a TLS handshake gets on an address several environments share: the one a request with
/// the client's SNI as its `Host` would be routed to (`RouteSelector`: an exact name, then a `*.` wildcard of
/// the first label, then an environment that claims every host), else the first.
enum CertificatePick {
    /// A selector over the certificates' hosts (`hosts[i]`: the i-th certificate's route hosts; empty: every host).
    static func selector(_ hosts: [[String]]) -> RouteSelector {
        RouteSelector(hosts.enumerated().map { ("\($0.offset)", RouteMatch(hosts: $0.element)) })
    }

    /// The certificate for `sni` among `count` of them; nil only when there are none.
    static func index(sni: String?, in selector: RouteSelector, count: Int) -> Int? {
        guard count > 0 else { return nil }
        return selector.select(host: sni, target: "/")?.index ?? 0
    }

    static func index(sni: String?, hosts: [[String]]) -> Int? { index(sni: sni, in: selector(hosts), count: hosts.count) }
}
