import SlipwayCore

/// Which certificate a TLS handshake gets on an address several environments share: the one whose hosts
/// name the client's SNI exactly, else one whose `*.` wildcard covers it, else one that claims every host,
/// else the first. A pure function of the names, tested without sockets.
enum CertificatePick {
    /// `hosts[i]`: the hosts of the i-th certificate's route (empty: every host). Nil only when `hosts` is empty.
    static func index(sni: String?, hosts: [[String]]) -> Int? {
        guard !hosts.isEmpty else { return nil }
        if let sni, !sni.isEmpty {
            let name = RouteMatch.normalized(sni)
            if let i = hosts.firstIndex(where: { $0.contains(name) }) { return i }
            if let dot = name.firstIndex(of: ".") {
                let wildcard = "*" + name[dot...]
                if let i = hosts.firstIndex(where: { $0.contains(wildcard) }) { return i }
            }
        }
        return hosts.firstIndex(where: \.isEmpty) ?? 0
    }
}
