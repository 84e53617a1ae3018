/// On a shared edge, which requests each app's routes claim: an app registering its listeners is refused when
/// one of them would take a host and path another app holds on the same address, or uses an address another
/// app serves with the other protocol (plain HTTP or HTTPS). Every refusal names the other app.
public enum EdgeClaims {
    struct Claim {
        var app: String
        var environment: String
        var match: RouteMatch
        var tls: Bool
    }

    /// Why `app` may not register `listeners` beside `others` (app name → its listeners); empty: it may.
    public static func refusals(app: String, listeners: [ListenerTable], others: [String: [ListenerTable]]) -> [String] {
        var out: [String] = []
        for l in listeners where l.name.contains("/") || l.name.isEmpty {
            out.append("'\(l.name)' is not an environment name")
        }
        var byAddress: [ListenAddress: [Claim]] = [:]
        var addresses: [ListenAddress] = []
        func add(_ address: ListenAddress, _ claim: Claim) {
            if byAddress[address] == nil { addresses.append(address) }
            byAddress[address, default: []].append(claim)
        }
        // Other apps first (in name order, so a refusal reads the same every time), then this one's.
        for (other, ls) in others.sorted(by: { $0.key < $1.key }) where other != app {
            for l in ls { claims(of: l, app: other).forEach { add($0.0, $0.1) } }
        }
        for l in listeners { claims(of: l, app: app).forEach { add($0.0, $0.1) } }
        for address in addresses {
            let all = byAddress[address] ?? []
            guard all.contains(where: { $0.app == app }), all.contains(where: { $0.app != app }) else { continue }
            if let mine = all.first(where: { $0.app == app }), let other = all.first(where: { $0.app != app && $0.tls != mine.tls }) {
                out.append("\(address) is \(other.tls ? "HTTPS" : "plain HTTP") for app '\(other.app)' (environment '\(other.environment)'); one address speaks one of them")
                continue
            }
            let named = all.map { (name: "\($0.app)\u{1}\($0.environment)", match: $0.match) }
            for c in RouteSelector.conflicts(named) {
                let first = c.first.split(separator: "\u{1}").map(String.init), second = c.second.split(separator: "\u{1}").map(String.init)
                guard first.count == 2, second.count == 2, first[0] != second[0], second[0] == app || first[0] == app else { continue }
                let (holder, env) = first[0] == app ? (second[0], second[1]) : (first[0], first[1])
                let what = c.host == "*" ? "every host" : "host \(c.host)"
                out.append("\(what) with path \(c.path) on \(address) is held by app '\(holder)' (environment '\(env)')")
            }
        }
        return out
    }

    static func claims(of l: ListenerTable, app: String) -> [(ListenAddress, Claim)] {
        let match = l.route ?? RouteMatch()
        var out = [(l.listen, Claim(app: app, environment: l.name, match: match, tls: false))]
        if let tls = l.tls { out.append((tls.listen, Claim(app: app, environment: l.name, match: match, tls: true))) }
        return out
    }
}
