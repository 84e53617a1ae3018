import Foundation
import SlipwayCore
import SlipwayFleet

/// A fleet environment's certificate (`router.tls: acme` with `state.postgres`): the controller obtains it once, with
/// every host answering the CA's challenge, keeps it in the shared state and installs it on every host.
extension FleetCommand {
    /// The certificate the fleet's controller obtains for `env` (nil: its hosts' routers do not take one from it).
    /// `connected`: hosts a deploy has open (nil: this makes its own).
    static func certificates(_ cfg: SlipwayConfig, _ env: EnvironmentConfig, shared: SharedState, connected: [any FleetHost]? = nil) throws -> FleetCertificates? {
        guard let acme = env.router.tls?.acme, let names = fleetCertificateNames(env) else { return nil }
        let hosts = try (connected ?? hosts(cfg, env)).compactMap { $0 as? any CertificateHost }
        return FleetCertificates(app: cfg.app, environment: env.name, names: names, options: acme, shared: shared, hosts: hosts, log: say)
    }

    /// The names of the certificate the fleet's controller obtains for `env` (nil: its hosts' routers take none from it).
    static func fleetCertificateNames(_ env: EnvironmentConfig) -> [String]? {
        guard env.router.tls?.acme?.fleet == true else { return nil }
        let names = (env.router.route?.hosts ?? []).filter { !$0.hasPrefix("*.") }
        return names.isEmpty ? nil : names
    }

    /// The controller asks the CA for a fleet's certificate: a private CA's file must be readable here (a host parsing the
    /// config snapshot does not read it). A usage error naming the key, before anything changes.
    static func checkCertificateFiles(_ cfg: SlipwayConfig, _ env: EnvironmentConfig) throws {
        guard let acme = env.router.tls?.acme, acme.fleet == true, let ca = acme.caFile else { return }
        let text = FileManager.default.contents(atPath: ca).map { String(decoding: $0.prefix(1 << 20), as: UTF8.self) }
        guard text?.contains("-----BEGIN CERTIFICATE-----") == true else {
            throw SlipwayError.usage("\(cfg.file): environments.\(env.name).router.acme.ca: cannot read \(ca) on this machine; expected the PEM of the CA's API certificate")
        }
    }

    /// Obtains the certificate when due and installs it on every host, saying what happened. A CA's refusal or a host
    /// that could not take it is said, not thrown: what served before keeps serving.
    /// `connected`: the hosts of a deploy, still connected (nil: every host of the environment, connected here and closed after).
    @discardableResult
    static func ensureCertificate(_ cfg: SlipwayConfig, _ env: EnvironmentConfig, shared: SharedState,
                                  connected: [any FleetHost]? = nil) async throws -> FleetCertificates.Outcome? {
        guard let certificates = try certificates(cfg, env, shared: shared, connected: connected) else { return nil }
        try checkCertificateFiles(cfg, env)
        let hosts = connected == nil ? try Self.hosts(cfg, env) : []
        await withTaskGroup(of: Void.self) { group in
            for host in hosts { group.addTask { try? await host.connect() } }
        }
        let outcome: FleetCertificates.Outcome
        do { outcome = try await certificates.ensure() } catch {
            for host in hosts { await host.disconnect() }
            throw error
        }
        for host in hosts { await host.disconnect() }
        let names = outcome.names.joined(separator: ", ")
        if !outcome.installed.isEmpty {
            say("certificate for \(names)\(outcome.issued ? " issued" : "")"
                + (outcome.notAfter.map { ", valid until \(Output.time($0))" } ?? "") + ": installed on \(outcome.installed.joined(separator: ", "))")
        }
        for (host, why) in outcome.failed.sorted(by: { $0.key < $1.key }) { say("certificate for \(names): not installed on \(host): \(why)") }
        return outcome
    }

    /// `slipway certs [--env E] [--renew]` on a fleet environment: its certificate from the shared state (false: not a fleet's).
    static func certificates(_ global: GlobalOptions, _ env: String?, renew: Bool, json: Bool) async throws -> Bool {
        guard let (cfg, e) = try sharedEnvironment(global, env) else { return false }
        try await withShared(cfg) { shared in
            let shared = shared!
            if renew {
                guard try certificates(cfg, e, shared: shared) != nil else {
                    throw SlipwayError.usage("environment \(e.name) has no certificate the fleet obtains: set router.tls: acme with router.hosts")
                }
                try await ensureCertificate(cfg, e, shared: shared)
            }
            var list: [CertificateInfo] = []
            if e.router.tls?.acme?.fleet == true {
                let kept = try await shared.certificate(environment: e.name) ?? SharedCertificate(environment: e.name)
                if let info = kept.info(e, now: Date()) { list.append(info) }
            }
            Certs.show(list, json: json)
        }
        return true
    }
}
