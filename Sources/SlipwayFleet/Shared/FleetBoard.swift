import Foundation
import Logging
import SlipwayACME
import SlipwayCore

/// What a daemon's dashboard reads of its fleet environments from the shared state (`state.postgres`): their fleet
/// deployments with each host's result, their events and the certificate the fleet keeps. One connection, made on first
/// use and again after it was lost; a page whose read fails says so instead of failing.
public actor FleetBoard {
    let url: PostgresURL
    let app: String
    var shared: SharedState?

    /// The board for `config`'s fleet environments; nil when none has `hosts`, no `state.postgres` is set, or its variable
    /// is not in this process's environment (a fleet host's app daemon, say).
    public init?(config: SlipwayConfig, environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard config.environments.values.contains(where: { !$0.hosts.isEmpty }),
              let url = try? PostgresURL.configured(config.state, environment: environment) else { return nil }
        self.url = url
        app = config.app
    }

    func state() async throws(SlipwayError) -> SharedState {
        if let shared, await !shared.isClosed { return shared }
        let made = try await SharedState.connect(url, app: app)
        shared = made
        return made
    }

    public func deployments(environment: String, limit: Int) async throws(SlipwayError) -> [FleetDeploymentRecord] {
        try await state().deployments(environment: environment, limit: limit)
    }

    public func events(environment: String, limit: Int) async throws(SlipwayError) -> [Event] {
        try await state().events(environment: environment, after: nil, limit: limit).events
    }

    /// The certificate the fleet keeps for `env` (nil: its hosts' routers do not take one from the fleet).
    public func certificate(_ env: EnvironmentConfig) async throws(SlipwayError) -> CertificateInfo? {
        guard env.router.tls?.acme?.fleet == true else { return nil }
        let kept = try await state().certificate(environment: env.name) ?? SharedCertificate(environment: env.name)
        return kept.info(env, now: Date())
    }

    public func close() async {
        await shared?.close()
        shared = nil
    }
}

extension SharedCertificate {
    /// As `slipway certs` and the dashboard show a certificate (`certFile` reads "shared state").
    public func info(_ env: EnvironmentConfig, now: Date) -> CertificateInfo? {
        guard let tls = env.router.tls, let acme = tls.acme else { return nil }
        let facts = CertificateFacts(pem: chainPEM)
        let names = (env.router.route?.hosts ?? []).filter { !$0.hasPrefix("*.") }
        var info = CertificateInfo(environment: env.name, address: "\(tls.listen.host):\(tls.listen.port)", hosts: env.router.route?.hosts ?? [],
                                   certFile: "shared state", subject: facts?.subject, issuer: facts?.issuer, names: facts?.names ?? [],
                                   notBefore: facts?.notBefore, notAfter: facts?.notAfter)
        info.acme = ACMERenewal(directory: acme.directory, placeholder: facts == nil, lastRenewal: record.lastRenewal,
                                nextAttempt: RenewalSchedule.next(record, wanted: names, now: now), failures: record.failures, lastError: record.lastError)
        return info
    }
}
