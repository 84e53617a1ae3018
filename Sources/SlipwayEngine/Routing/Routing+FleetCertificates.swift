import Foundation
import SlipwayACME
import SlipwayCore

/// A fleet host's side of certificates obtained by the fleet's controller (`router.acme` with shared state): the
/// controller's challenge answers go up on this host's router while the CA validates, and the certificate it got
/// is written into the environment's ACME files (key, then chain; 0600) and loaded by the router; with `router.edge`
/// both go to the shared edge, which keeps the certificate under its own state.
extension Routing {
    public nonisolated func challenge(_ answer: ChallengeAnswer) async throws(SlipwayError) {
        try await router.challenge(answer)
    }

    public func installCertificate(environment name: String, _ install: CertificateInstall) async throws(SlipwayError) {
        let env = try config.environment(name)
        guard let tls = env.router.tls, tls.acme?.fleet == true else {
            throw .usage("\(name) does not take a fleet's certificate: it needs router.tls: acme, hosts: and state.postgres")
        }
        guard let facts = CertificateFacts(pem: install.chainPEM), !facts.isPlaceholder else {
            throw .usage("the certificate for \(name) does not parse as a PEM chain")
        }
        guard Set(env.router.route?.hosts.filter { !$0.hasPrefix("*.") } ?? []).isSubset(of: Set(facts.names)) else {
            throw .usage("the certificate for \(name) covers \(facts.names.joined(separator: ", ")), not every name in router.hosts")
        }
        if router.edgeApp != nil { return try await router.installOnEdge(environment: name, install) }
        do { try ACMEFiles.writePair(certificatePEM: install.chainPEM, keyPEM: install.keyPEM, certFile: tls.certFile, keyFile: tls.keyFile) } catch {
            throw SlipwayError(.internal, "cannot write the certificate for \(name) to \(tls.certFile)", cause: error)
        }
        // The router's file watch would load it within a second; asked now, the next handshake has it.
        if await router.isRunning() { try await router.reloadCertificates() }
    }
}
