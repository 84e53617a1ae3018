import Foundation
import Logging
import SlipwayACME
import SlipwayCore

/// Obtains and renews the route table's ACME certificates, one at a time: each pass looks at every
/// `tls: acme` environment, asks `RenewalSchedule` whether it is due, and if so records the attempt (before
/// the CA is asked), gets a certificate, writes it (key, then chain; 0600) and has the router load it. A
/// failure is recorded with its next attempt; the certificate on disk keeps serving.
actor ACMEManager {
    /// One environment's ACME certificate, as the table wants it.
    struct Wanted: Sendable, Equatable {
        var environment: String
        var names: [String]
        var options: ACMEOptions
        var certFile: String
        var keyFile: String
    }

    let issuer: any CertificateIssuer
    let responder: any ChallengeResponder
    /// Called after a certificate was written (the router loads it for new handshakes).
    let installed: @Sendable () async -> Void
    let jitter: @Sendable () -> Double
    let logger: Logger
    /// Renewal state by storage directory, read once and written after every change.
    private var states: [String: ACMEState] = [:]
    /// Environments whose files were looked at for a certificate the state does not know (a lost state file).
    private var adopted: Set<String> = []

    init(issuer: any CertificateIssuer, responder: any ChallengeResponder, installed: @escaping @Sendable () async -> Void,
         jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, logger: Logger) {
        self.issuer = issuer
        self.responder = responder
        self.installed = installed
        self.jitter = jitter
        self.logger = logger
    }

    /// The ACME certificates `table` asks for.
    static func wanted(_ table: RouteTable) -> [Wanted] {
        table.listeners.compactMap { l in
            guard let tls = l.tls, let acme = tls.acme, let hosts = l.route?.hosts, !hosts.isEmpty else { return nil }
            return Wanted(environment: l.name, names: hosts, options: acme, certFile: tls.certFile, keyFile: tls.keyFile)
        }
    }

    func record(_ w: Wanted) -> CertificateRecord { state(w.options.storage).certificates[w.environment] ?? CertificateRecord() }

    /// One look at every wanted certificate; the environments it asked the CA for.
    @discardableResult
    func pass(_ wanted: [Wanted], now: Date) async -> [String] {
        var asked: [String] = []
        for w in wanted {
            adoptIfKnown(w)
            let before = record(w)
            guard RenewalSchedule.isDue(before, wanted: w.names, now: now) else { continue }
            asked.append(w.environment)
            // Recorded before the CA is asked: a crash in the middle still counts against the hourly cap.
            guard save(w, RenewalSchedule.started(before, now: now)) else { continue }
            logger.info("asking the ACME CA for a certificate", metadata: ["acme.environment": "\(w.environment)", "acme.names": "\(w.names.joined(separator: ","))",
                                                                          "acme.directory": "\(w.options.directory)"])
            do {
                let issued = try await issuer.issue(names: w.names, options: w.options, responder: responder)
                let validity = try Self.validity(issued.chainPEM)
                try ACMEFiles.writePrivate(Data(issued.keyPEM.utf8), to: w.keyFile)
                try ACMEFiles.writePrivate(Data(issued.chainPEM.utf8), to: w.certFile)
                _ = save(w, RenewalSchedule.succeeded(record(w), names: w.names, notBefore: validity.notBefore, notAfter: validity.notAfter, now: now))
                logger.info("ACME issued the certificate", metadata: ["acme.environment": "\(w.environment)", "acme.not_after": "\(validity.notAfter)"])
                await installed()
            } catch {
                let after = RenewalSchedule.failed(record(w), error, now: now, jitter: jitter())
                _ = save(w, after)
                logger.error("ACME could not issue the certificate; the current one keeps serving",
                             metadata: ["acme.environment": "\(w.environment)", "error": "\(error)", "acme.next_attempt": "\(after.nextAttempt.map { "\($0)" } ?? "-")"])
            }
        }
        return asked
    }

    /// A real certificate on disk for the wanted names that the state does not know (its file was lost or is
    /// new): taken as the current one, so it is renewed on schedule rather than replaced at once.
    private func adoptIfKnown(_ w: Wanted) {
        guard !adopted.contains(w.environment) else { return }
        adopted.insert(w.environment)
        var r = record(w)
        guard r.notAfter == nil, let facts = CertificateFacts(file: w.certFile), !facts.isPlaceholder, Set(w.names).isSubset(of: Set(facts.names)) else { return }
        r.names = w.names
        r.notBefore = facts.notBefore
        r.notAfter = facts.notAfter
        _ = save(w, r)
    }

    private func state(_ storage: String) -> ACMEState {
        if let s = states[storage] { return s }
        let (loaded, error) = ACMEState.load(storage + "/state.json")
        if let error { logger.error("cannot read the ACME state; starting from none", metadata: ["acme.state": "\(storage)/state.json", "error": "\(error)"]) }
        states[storage] = loaded
        return loaded
    }

    /// Writes the record; false (logged) when the state file cannot be written: then no attempt is made.
    private func save(_ w: Wanted, _ r: CertificateRecord) -> Bool {
        var s = state(w.options.storage)
        s.certificates[w.environment] = r
        states[w.options.storage] = s
        do { try s.save(w.options.stateFile) } catch {
            logger.error("cannot write the ACME state; not asking the CA until it can be written", metadata: ["acme.state": "\(w.options.stateFile)", "error": "\(error)"])
            return false
        }
        return true
    }

    /// The leaf's validity, as the CA issued it.
    static func validity(_ chainPEM: String) throws(ACMEFailure) -> (notBefore: Date, notAfter: Date) {
        guard let facts = CertificateFacts(pem: chainPEM) else { throw ACMEFailure(.protocolError, "the CA's certificate chain does not parse as PEM") }
        return (facts.notBefore, facts.notAfter)
    }
}

extension ACMEManager {
    /// `certificates` with each ACME one's renewal, read from the state files (`GET /v1/certificates`).
    static func annotate(_ certificates: [CertificateInfo], table: RouteTable, now: Date = Date()) -> [CertificateInfo] {
        let wanted = Dictionary(wanted(table).map { ($0.environment, $0) }, uniquingKeysWith: { a, _ in a })
        var states: [String: ACMEState] = [:]
        return certificates.map { info in
            guard let w = wanted[info.environment] else { return info }
            let state = states[w.options.storage] ?? ACMEState.load(w.options.stateFile).state
            states[w.options.storage] = state
            let r = state.certificates[w.environment] ?? CertificateRecord()
            var out = info
            out.acme = ACMERenewal(directory: w.options.directory, placeholder: info.issuer?.contains(ChallengeCertificate.placeholderOrganization) ?? true,
                                   lastRenewal: r.lastRenewal, nextAttempt: RenewalSchedule.next(r, wanted: w.names, now: now),
                                   failures: r.failures, lastError: r.lastError)
            return out
        }
    }
}
