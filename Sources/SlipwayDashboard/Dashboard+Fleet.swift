import Foundation
import SlipwayCore
import SlipwayFleet

/// A fleet environment (`hosts:`) on the dashboard, read from the shared state (`state.postgres`): its fleet deployments
/// with each host's result, its events and the certificate the fleet keeps. A failed read is said on the page.
extension Dashboard {
    /// How many fleet deployments and events the environment page lists.
    static let fleetShown = 20

    func fleetSection(_ env: EnvironmentConfig) async -> [String: Any]? {
        guard let fleet, !env.hosts.isEmpty else { return nil }
        var section: [String: Any] = ["hosts": env.hosts.joined(separator: ", "), "strategy": env.fleet.strategy.rawValue]
        do {
            let deployments = try await fleet.deployments(environment: env.name, limit: Self.fleetShown)
            section["deployments"] = deployments.map { d -> [String: Any] in
                ["number": d.number, "id": d.id, "kind": d.kind.rawValue, "version": d.version, "state": d.state, "stateClass": Self.fleetStateClass(d.state),
                 "actor": d.actor, "started": Self.time(d.startedAt), "took": d.finishedAt.map { Self.duration($0.timeIntervalSince(d.startedAt)) } ?? d.state,
                 "message": d.message]
            }
            // What each host serves, as the newest deployment that heard from them left it.
            if let latest = deployments.first(where: { !$0.results.isEmpty }) {
                section["latest"] = latest.id
                section["results"] = latest.results.map { h -> [String: Any] in
                    ["host": h.host, "state": h.state.rawValue, "bad": [.failed, .unknown, .unreachable, .revertFailed].contains(h.state),
                     "current": h.current ?? "-", "message": h.message]
                }
            }
            section["events"] = try await fleet.events(environment: env.name, limit: Self.fleetShown).reversed().map { e -> [String: Any] in
                var detail = ""
                if case .fleet(let f) = e.payload { detail = f.detail }
                return ["time": Self.time(e.time), "type": e.type, "detail": detail]
            }
        } catch {
            section["error"] = "cannot read the shared state: \(error.message)"
        }
        return section
    }

    /// The fleet's own certificate, as the environment page's certificate table shows it.
    func fleetCertificate(_ env: EnvironmentConfig) async -> CertificateInfo? {
        guard let fleet else { return nil }
        return try? await fleet.certificate(env)
    }

    /// One line for the overview: the newest fleet deployment.
    func fleetLine(_ env: EnvironmentConfig) async -> String? {
        guard let fleet, !env.hosts.isEmpty else { return nil }
        guard let d = try? await fleet.deployments(environment: env.name, limit: 1).first else { return "\(env.hosts.count) host(s); no fleet deployment yet" }
        return "\(env.hosts.count) host(s); fleet deployment #\(d.number) of \(d.version) by \(d.actor): \(d.state)"
    }

    static func fleetStateClass(_ state: String) -> String {
        switch state {
        case "succeeded": "ok"
        case "failed", "rolled_back", "partial", "interrupted", "refused": "bad"
        default: ""
        }
    }
}
