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
    /// Where certificates obtained on demand are served from (renewals update it).
    let onDemand: OnDemandCertificates?
    /// Names on demand being obtained now: a second handshake for one waits for the same attempt.
    var inFlight: [String: Task<OnDemandCertificates.Entry?, Never>] = [:]
    /// Names the ask endpoint refused, until when they are not asked about again.
    var refusedUntil: [String: Date] = [:]
    /// Renewal state by storage directory, read once and written after every change.
    private var states: [String: ACMEState] = [:]
    /// Environments whose files were looked at for a certificate the state does not know (a lost state file).
    private var adopted: Set<String> = []

    init(issuer: any CertificateIssuer, responder: any ChallengeResponder, installed: @escaping @Sendable () async -> Void,
         onDemand: OnDemandCertificates? = nil, jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, logger: Logger) {
        self.onDemand = onDemand
        self.issuer = issuer
        self.responder = responder
        self.installed = installed
        self.jitter = jitter
        self.logger = logger
    }

    /// The ACME certificates `table` asks for: each environment's for its exact hosts (none when it has only
    /// wildcards or takes every host, on demand), and its certificates on demand.
    static func wanted(_ table: RouteTable) -> [Wanted] {
        table.listeners.compactMap { l in
            // A fleet's controller obtains the certificate once for all its hosts and installs it here.
            guard let tls = l.tls, let acme = tls.acme, acme.fleet != true else { return nil }
            let names = (l.route?.hosts ?? []).filter { !$0.hasPrefix("*.") }
            guard !names.isEmpty || acme.onDemand != nil else { return nil }
            return Wanted(environment: l.name, names: names, options: acme, certFile: tls.certFile, keyFile: tls.keyFile)
        }
    }

    func record(_ w: Wanted) -> CertificateRecord { record(w.environment, w.options) }

    func record(_ key: String, _ options: ACMEOptions) -> CertificateRecord { state(options.storage).certificates[key] ?? CertificateRecord() }

    /// One look at every wanted certificate (and every one obtained on demand); the ones it asked the CA for
    /// (environments, and `environment name` for those on demand).
    @discardableResult
    func pass(_ wanted: [Wanted], now: Date) async -> [String] {
        var asked: [String] = []
        for w in wanted {
            if !w.names.isEmpty {
                adoptIfKnown(w)
                await askRenewalInfo(w.environment, options: w.options, certFile: w.certFile, now: now)
                if RenewalSchedule.isDue(record(w), wanted: w.names, now: now) {
                    asked.append(w.environment)
                    if await attempt(w.environment, names: w.names, options: w.options, certFile: w.certFile, keyFile: w.keyFile, now: now) { await installed() }
                }
            }
            guard w.options.onDemand != nil else { continue }
            let prefix = Self.onDemandKey(environment: w.environment, name: "")
            for (key, r) in state(w.options.storage).certificates.sorted(by: { $0.key < $1.key })
            where key.hasPrefix(prefix) && !r.names.isEmpty && RenewalSchedule.isDue(r, wanted: r.names, now: now) {
                let name = String(key.dropFirst(prefix.count))
                let files = ACMEOptions.onDemandFiles(storage: w.options.storage, environment: w.environment, name: name)
                asked.append(key)
                if await attempt(key, names: [name], options: w.options, certFile: files.cert, keyFile: files.key, now: now),
                   let entry = OnDemandCertificates.load(cert: files.cert, key: files.key) {
                    onDemand?.store(name, entry)
                }
            }
        }
        return asked
    }

    /// Asks the CA for `names` (recorded first), writes what it issues (key, then chain), records the outcome.
    func attempt(_ key: String, names: [String], options: ACMEOptions, certFile: String, keyFile: String, now: Date) async -> Bool {
        // Recorded before the CA is asked: a crash in the middle still counts against the hourly cap.
        guard save(key, options, RenewalSchedule.started(record(key, options), now: now)) else { return false }
        logger.info("asking the ACME CA for a certificate", metadata: ["acme.certificate": "\(key)", "acme.names": "\(names.joined(separator: ","))",
                                                                      "acme.directory": "\(options.directory)"])
        do {
            let issued = try await issuer.issue(names: names, options: options, responder: responder)
            let validity = try Self.validity(issued.chainPEM)
            try ACMEFiles.writePair(certificatePEM: issued.chainPEM, keyPEM: issued.keyPEM, certFile: certFile, keyFile: keyFile)
            _ = save(key, options, RenewalSchedule.succeeded(record(key, options), names: names, notBefore: validity.notBefore, notAfter: validity.notAfter, now: now))
            logger.info("ACME issued the certificate", metadata: ["acme.certificate": "\(key)", "acme.not_after": "\(validity.notAfter)"])
            return true
        } catch {
            let after = RenewalSchedule.failed(record(key, options), error, now: now, jitter: jitter())
            _ = save(key, options, after)
            logger.error("ACME could not issue the certificate; the current one keeps serving",
                         metadata: ["acme.certificate": "\(key)", "error": "\(error)", "acme.next_attempt": "\(after.nextAttempt.map { "\($0)" } ?? "-")"])
            return false
        }
    }

    /// The CA's renewal window for the certificate in `certFile`, asked at most every six hours (RFC 9773): a time
    /// in it moves the renewal earlier when the CA says so. A failure only waits for the next time.
    func askRenewalInfo(_ key: String, options: ACMEOptions, certFile: String, now: Date) async {
        var r = record(key, options)
        guard RenewalSchedule.wantsRenewalInfo(r, now: now), let chain = try? String(contentsOfFile: certFile, encoding: .utf8) else { return }
        do {
            let window = try await issuer.renewalWindow(chainPEM: chain, options: options)
            r = record(key, options)  // the actor may have changed it meanwhile
            r.suggestedRenewal = window?.pick(jitter: jitter())
            if let window { logger.info("the CA suggests a renewal window", metadata: ["acme.certificate": "\(key)", "acme.window": "\(window.start)…\(window.end)"]) }
        } catch {
            r = record(key, options)
            logger.info("cannot read the CA's renewal information; renewing on schedule", metadata: ["acme.certificate": "\(key)", "error": "\(error)"])
        }
        r.renewalInfoAt = now
        _ = save(key, options, r)
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
        _ = save(w.environment, w.options, r)
    }

    func state(_ storage: String) -> ACMEState {
        if let s = states[storage] { return s }
        let (loaded, error) = ACMEState.load(storage + "/state.json")
        if let error { logger.error("cannot read the ACME state; starting from none", metadata: ["acme.state": "\(storage)/state.json", "error": "\(error)"]) }
        states[storage] = loaded
        return loaded
    }

    /// Writes the record; false (logged) when the state file cannot be written: then no attempt is made.
    func save(_ key: String, _ options: ACMEOptions, _ r: CertificateRecord) -> Bool {
        var s = state(options.storage)
        s.certificates[key] = r
        states[options.storage] = s
        do { try s.save(options.stateFile) } catch {
            logger.error("cannot write the ACME state; not asking the CA until it can be written", metadata: ["acme.state": "\(options.stateFile)", "error": "\(error)"])
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
