import Foundation
import SlipwayACME
import SlipwayCore

/// What a fleet deploy asks of a host for its certificate (`HostClient`; a fake in unit tests).
public protocol CertificateHost: Sendable {
    var name: String { get }
    func challenge(app: String, _ answer: ChallengeAnswer) async throws(SlipwayError)
    func installCertificate(app: String, environment: String, _ install: CertificateInstall) async throws(SlipwayError)
}

/// A fleet environment's ACME certificate (`router.tls: acme` with `state.postgres`): obtained once, by a controller,
/// never by the hosts. Each challenge's answer goes up on every host before the CA is told to validate, so whichever
/// host the CA reaches (DNS may name any of them) answers it. What the CA issues is kept in the shared state and
/// installed on every host. Renewal follows the single-host schedule and its record (two thirds of the lifetime or the
/// CA's window, backoff with jitter, a few attempts an hour at most), kept in the shared state so every operator's
/// controller sees the same; a failed renewal leaves the current certificate serving.
public struct FleetCertificates: Sendable {
    public struct Outcome: Codable, Sendable, Equatable {
        public var environment: String
        public var names: [String]
        /// A certificate was obtained from the CA in this call.
        public var issued: Bool
        public var notAfter: Date?
        /// The hosts that now serve it, and those that could not take it (with why).
        public var installed: [String]
        public var failed: [String: String]
        /// Why the CA did not issue one (the current certificate, if any, keeps serving).
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case environment, names, issued, installed, failed, error
            case notAfter = "not_after"
        }
    }

    let app: String
    let environment: String
    let names: [String]
    let options: ACMEOptions
    let shared: SharedState
    let hosts: [any CertificateHost]
    let log: @Sendable (String) -> Void

    public init(app: String, environment: String, names: [String], options: ACMEOptions, shared: SharedState, hosts: [any CertificateHost],
                log: @escaping @Sendable (String) -> Void) {
        self.app = app
        self.environment = environment
        self.names = names
        self.options = options
        self.shared = shared
        self.hosts = hosts
        self.log = log
    }

    /// Obtains the certificate when it is due (recorded before the CA is asked), then installs what the shared state
    /// holds on every host. Throws only when the shared state cannot be read or written.
    public func ensure(now: Date = Date(), jitter: Double = .random(in: 0..<1)) async throws(SlipwayError) -> Outcome {
        // One controller at a time decides and asks the CA; another meanwhile installs what is kept.
        let mayAsk = try await shared.certificateLock(environment: environment)
        var c: SharedCertificate
        do { c = try await shared.certificate(environment: environment) ?? SharedCertificate(environment: environment) } catch {
            if mayAsk { await shared.certificateUnlock(environment: environment) }
            throw error
        }
        var outcome = Outcome(environment: environment, names: names, issued: false, notAfter: c.record.notAfter, installed: [], failed: [:], error: nil)
        if mayAsk {
            do { try await obtainIfDue(&c, &outcome, now: now, jitter: jitter) } catch {
                await shared.certificateUnlock(environment: environment)
                throw error
            }
            await shared.certificateUnlock(environment: environment)
        } else {
            log("certificate for \(names.joined(separator: ", ")): another controller is asking the CA now; installing the one kept")
        }
        guard !c.chainPEM.isEmpty else { return outcome }
        outcome.notAfter = CertificateFacts(pem: c.chainPEM)?.notAfter
        await install(c, &outcome)
        return outcome
    }

    /// Asks the CA when the record says it is due (recorded before it asks; the outcome recorded after).
    func obtainIfDue(_ c: inout SharedCertificate, _ outcome: inout Outcome, now: Date, jitter: Double) async throws(SlipwayError) {
        if RenewalSchedule.isDue(c.record, wanted: names, now: now) {
            c.record = RenewalSchedule.started(c.record, now: now)
            try await shared.save(c, withCertificate: false)
            log("certificate for \(names.joined(separator: ", ")): asking \(options.directory), its challenges answered on \(hosts.count) host(s)")
            do throws(ACMEFailure) {
                let issued = try await issue()
                guard let facts = CertificateFacts(pem: issued.chainPEM) else { throw ACMEFailure(.protocolError, "the CA's certificate chain does not parse as PEM") }
                c.chainPEM = issued.chainPEM
                c.keyPEM = issued.keyPEM
                c.record = RenewalSchedule.succeeded(c.record, names: names, notBefore: facts.notBefore, notAfter: facts.notAfter, now: now)
                outcome.issued = true
                outcome.notAfter = facts.notAfter
            } catch {
                c.record = RenewalSchedule.failed(c.record, error, now: now, jitter: jitter)
                try await shared.save(c, withCertificate: false)
                outcome.error = error.description
                log("certificate for \(names.joined(separator: ", ")): the CA did not issue it: \(error.description)"
                    + (c.chainPEM.isEmpty ? "" : "; the current one keeps serving"))
            }
            if outcome.issued { try await shared.save(c, withCertificate: true) }
        }
    }

    /// Installs the kept certificate on every host at once.
    func install(_ c: SharedCertificate, _ outcome: inout Outcome) async {
        let install = CertificateInstall(chainPEM: c.chainPEM, keyPEM: c.keyPEM)
        let app = self.app, environment = self.environment
        await withTaskGroup(of: (String, String?).self) { group in
            for host in hosts {
                group.addTask {
                    do throws(SlipwayError) {
                        try await host.installCertificate(app: app, environment: environment, install)
                        return (host.name, nil)
                    } catch { return (host.name, error.message) }
                }
            }
            for await (host, error) in group {
                if let error { outcome.failed[host] = error } else { outcome.installed.append(host) }
            }
        }
        outcome.installed.sort()
    }

    /// One order, its challenges answered by every host.
    func issue() async throws(ACMEFailure) -> IssuedCertificate {
        let key: AccountKey
        do { key = try await shared.accountKey(directory: options.directory) } catch { throw ACMEFailure(.storage, error.message) }
        let client = try ACMEClient(settings: .init(directory: options.directory, email: options.email, caFile: options.caFile), key: key)
        let kind = ChallengeKind(rawValue: options.challenge) ?? .http01
        return try await client.issue(names: names, challenge: kind, responder: EveryHost(app: app, hosts: hosts, log: log))
    }
}

/// Puts each challenge's answer up on every host (and takes it down from every host): the CA may reach any of them.
struct EveryHost: ChallengeResponder {
    let app: String
    let hosts: [any CertificateHost]
    let log: @Sendable (String) -> Void

    func publish(_ challenge: PublishedChallenge) async { await tell(Self.answer(challenge, withdraw: false)) }
    func withdraw(_ challenge: PublishedChallenge) async { await tell(Self.answer(challenge, withdraw: true)) }

    /// A host that cannot take the answer is said; the CA's verdict decides (it may reach another host).
    func tell(_ answer: ChallengeAnswer) async {
        let app = self.app, log = self.log
        await withTaskGroup(of: Void.self) { group in
            for host in hosts {
                group.addTask {
                    do throws(SlipwayError) { try await host.challenge(app: app, answer) } catch {
                        log("\(host.name): cannot \(answer.withdraw ? "take down" : "put up") the \(answer.kind.rawValue) answer: \(error.message)")
                    }
                }
            }
        }
    }

    static func answer(_ c: PublishedChallenge, withdraw: Bool) -> ChallengeAnswer {
        switch c {
        case .http01(let token, let keyAuthorization): ChallengeAnswer(kind: .http01, token: token, keyAuthorization: keyAuthorization, withdraw: withdraw)
        case .tlsALPN01(let name, let cert, let key): ChallengeAnswer(kind: .tlsALPN01, name: name, certificatePEM: cert, keyPEM: key, withdraw: withdraw)
        }
    }
}
