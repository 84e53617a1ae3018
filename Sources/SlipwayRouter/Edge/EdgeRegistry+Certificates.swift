import Foundation
import SlipwayCore

/// What an app may prove and serve on the shared edge for a fleet's certificate (`router.tls: acme` on a fleet
/// environment with shared state, whose controller orders it): challenge answers only for the hosts the app routes
/// here, and a certificate only into its own fleet listener's files, naming only hosts that listener routes.
extension EdgeRegistry {
    /// The hosts `app` routes on the edge (all its listeners'), after checking the caller may act for it.
    func claims(app: String, uid: UInt32?) throws(SlipwayError) -> RouteMatch {
        let registered = try owned(app, uid: uid)
        let hosts = registered.table.listeners.flatMap { $0.route?.hosts ?? [] }
        guard !hosts.isEmpty else { throw .usage("app '\(app)' routes no host (router.hosts) on this edge: it cannot prove a name to a CA here") }
        return RouteMatch(hosts: hosts)
    }

    /// Where the edge keeps `app`'s fleet certificate for `environment` (the files its listener loads), after checking
    /// the caller may put it there and that every name in it is a host that listener routes.
    func fleetCertificateFiles(app: String, environment: String, uid: UInt32?, names: [String]) throws(SlipwayError) -> (cert: String, key: String) {
        let registered = try owned(app, uid: uid)
        guard let listener = registered.table.listeners.first(where: { $0.name == environment }), listener.tls?.acme?.fleet == true else {
            throw .usage("\(app)/\(environment) on this edge does not take a fleet's certificate (it needs router.tls: acme on an environment with hosts: and state.postgres)")
        }
        let routed = listener.route ?? RouteMatch()
        let foreign = names.filter { !routed.covers($0) }
        guard !names.isEmpty, foreign.isEmpty else {
            throw .policy("the certificate for \(app)/\(environment) names \(foreign.isEmpty ? "no host" : foreign.joined(separator: ", ")), which it does not route on this edge")
        }
        return ACMEOptions.files(storage: "\(directory)/acme/\(app)", environment: environment)
    }

    /// `app`'s registration when `uid` may act for it (its owner, or root).
    private func owned(_ app: String, uid: UInt32?) throws(SlipwayError) -> App {
        guard let registered = apps[app] else { throw .notFound("app '\(app)' has no routes on this edge (its daemon registers them when it starts)") }
        let uid = uid ?? UInt32.max
        guard registered.owner == uid || uid == 0 else {
            throw .policy("app '\(app)' belongs to uid \(registered.owner) on this edge; only its own daemon (or root) acts for it")
        }
        return registered
    }
}
