import SlipwayACME
import SlipwayCore

/// Obtains a certificate for names from a CA; `ACMEManager` decides when. Faked in the unit tests.
protocol CertificateIssuer: Sendable {
    func issue(names: [String], options: ACMEOptions, responder: any ChallengeResponder) async throws(ACMEFailure) -> IssuedCertificate
    /// The CA's suggested renewal window for a certificate it issued (RFC 9773); nil when it offers none.
    func renewalWindow(chainPEM: String, options: ACMEOptions) async throws(ACMEFailure) -> RenewalWindow?
}

extension CertificateIssuer {
    func renewalWindow(chainPEM: String, options: ACMEOptions) async throws(ACMEFailure) -> RenewalWindow? { nil }
}

/// The real one: an RFC 8555 client per CA and account, its key in `storage/account.key` (0600).
actor ACMEIssuer: CertificateIssuer {
    private var clients: [String: ACMEClient] = [:]

    func issue(names: [String], options: ACMEOptions, responder: any ChallengeResponder) async throws(ACMEFailure) -> IssuedCertificate {
        let client = try client(for: options)
        let kind = ChallengeKind(rawValue: options.challenge) ?? .http01
        return try await client.issue(names: names, challenge: kind, responder: responder)
    }

    func renewalWindow(chainPEM: String, options: ACMEOptions) async throws(ACMEFailure) -> RenewalWindow? {
        try await client(for: options).renewalWindow(for: chainPEM)
    }

    private func client(for options: ACMEOptions) throws(ACMEFailure) -> ACMEClient {
        let id = [options.directory, options.email ?? "", options.caFile ?? "", options.storage].joined(separator: "\n")
        if let c = clients[id] { return c }
        let key = try AccountKey.loadOrCreate(at: options.storage + "/account.key")
        let c = try ACMEClient(settings: .init(directory: options.directory, email: options.email, caFile: options.caFile), key: key)
        clients[id] = c
        return c
    }
}
