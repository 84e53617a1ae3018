import Foundation
import Logging
import SlipwayCore
import Synchronization
import Testing
@testable import SlipwayACME
@testable import SlipwayRouter

/// The router's ACME loop with a CA that rate-limits, then is down, then issues, and the times given: it asks
/// only when the schedule says, persists that across a restart, and never touches the certificate serving
/// until a new one is issued.
@Suite struct ACMEManagerTests {
    /// A CA answering from a script of outcomes, noting when it was asked.
    final class ScriptedCA: CertificateIssuer, Sendable {
        let script: Mutex<[Result<IssuedCertificate, ACMEFailure>]>
        let asked = Mutex<Int>(0)
        init(_ script: [Result<IssuedCertificate, ACMEFailure>]) { self.script = Mutex(script) }

        func issue(names: [String], options: ACMEOptions, responder: any ChallengeResponder) async throws(ACMEFailure) -> IssuedCertificate {
            asked.withLock { $0 += 1 }
            let next = script.withLock { $0.isEmpty ? Result.failure(ACMEFailure(.protocolError, "script ran out")) : $0.removeFirst() }
            return try next.get()
        }
    }

    struct NoChallenges: ChallengeResponder, Sendable {
        func publish(_ challenge: PublishedChallenge) async {}
        func withdraw(_ challenge: PublishedChallenge) async {}
    }

    /// A storage directory with `production`'s certificate for shop.test serving (valid a week from now).
    struct Serving {
        let storage: String
        let files: (cert: String, key: String)
        let wanted: [ACMEManager.Wanted]
        let certificate: IssuedCertificate
        func remove() { try? FileManager.default.removeItem(atPath: storage) }
    }

    static func serving(directory: String = ACMEOptions.letsEncrypt) throws -> Serving {
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-acme-\(UUID().uuidString.prefix(8))").path
        let files = ACMEOptions.files(storage: storage, environment: "production")
        let wanted = [ACMEManager.Wanted(environment: "production", names: ["shop.test"], options: ACMEOptions(directory: directory, storage: storage),
                                         certFile: files.cert, keyFile: files.key)]
        let certificate = try Self.certificate("shop.test")
        try ACMEFiles.writePair(certificatePEM: certificate.chainPEM, keyPEM: certificate.keyPEM, certFile: files.cert, keyFile: files.key)
        return Serving(storage: storage, files: files, wanted: wanted, certificate: certificate)
    }

    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func certificate(_ name: String) throws -> IssuedCertificate {
        let made = try ChallengeCertificate.tlsALPN01(name: name, keyAuthorization: "token.thumbprint")
        return IssuedCertificate(chainPEM: made.certificatePEM, keyPEM: made.keyPEM)
    }

    @Test func aRateLimitAndADownCAAreRetriedOnScheduleWhileTheOldCertificateKeepsServing() async throws {
        // The certificate serving now: valid a week from its making, so due at two thirds (about 4.7 days in).
        let fixture = try Self.serving(directory: "https://ca.test/dir")
        defer { fixture.remove() }
        let (storage, files, wanted, old) = (fixture.storage, fixture.files, fixture.wanted, fixture.certificate)
        let t0 = try #require(CertificateFacts(pem: old.chainPEM)).notBefore + 5 * 86_400
        let new = try Self.certificate("shop.test")
        let ca = ScriptedCA([.failure(ACMEFailure(.rateLimited, "the CA limited the rate", retryAfter: .seconds(600))),
                             .failure(ACMEFailure(.unreachable, "cannot reach the ACME CA")),
                             .failure(ACMEFailure(.unreachable, "cannot reach the ACME CA")),
                             .success(new)])
        let installs = Mutex(0)
        func manager() -> ACMEManager {
            ACMEManager(issuer: ca, responder: NoChallenges(), installed: { installs.withLock { $0 += 1 } }, jitter: { 0.5 }, logger: Self.quiet)
        }
        let m = manager()
        func serving() throws -> String { try String(contentsOfFile: files.cert, encoding: .utf8) }

        #expect(await m.pass(wanted, now: t0 - 86_400) == [], "not due a day before two thirds")
        #expect(await m.pass(wanted, now: t0) == ["production"])
        #expect(await m.record(wanted[0]).nextAttempt == t0 + 600, "Retry-After: 600")
        #expect(await m.pass(wanted, now: t0 + 300) == [])
        #expect(await m.pass(wanted, now: t0 + 600) == ["production"])  // down: backoff 120 s (second failure)
        #expect(await m.pass(wanted, now: t0 + 719) == [])
        #expect(await m.pass(wanted, now: t0 + 720) == ["production"])  // down again: the third in an hour
        #expect(await m.record(wanted[0]).nextAttempt == t0 + 3600)
        #expect(try serving() == old.chainPEM && installs.withLock { $0 } == 0, "the old certificate serves through every failure")

        // A restart reads the schedule back: no request before it.
        let restarted = manager()
        #expect(await restarted.pass(wanted, now: t0 + 3000) == [])
        #expect(await restarted.pass(wanted, now: t0 + 3600) == ["production"])
        #expect(try serving() == new.chainPEM && installs.withLock { $0 } == 1)
        let after = await restarted.record(wanted[0])
        #expect(after.failures == 0 && after.lastRenewal == t0 + 3600 && after.notAfter == CertificateFacts(pem: new.chainPEM)?.notAfter)
        #expect(ca.asked.withLock { $0 } == 4)
        for file in [files.cert, files.key, storage + "/state.json"] {
            #expect(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int == 0o600, "\(file)")
        }
    }

    @Test func aCertificateOnDiskTheStateDoesNotKnowIsAdoptedNotReplaced() async throws {
        let fixture = try Self.serving()
        defer { fixture.remove() }
        let (storage, files, wanted) = (fixture.storage, fixture.files, fixture.wanted)
        let ca = ScriptedCA([])
        let m = ACMEManager(issuer: ca, responder: NoChallenges(), installed: {}, logger: Self.quiet)
        #expect(await m.pass(wanted, now: Date()) == [])
        #expect(ca.asked.withLock { $0 } == 0)
        // A placeholder is not adopted: it is replaced at once.
        let placeholder = try ChallengeCertificate.placeholder(names: ["shop.test"])
        try ACMEFiles.writePrivate(Data(placeholder.certificatePEM.utf8), to: files.cert)
        let fresh = ACMEManager(issuer: ca, responder: NoChallenges(), installed: {}, logger: Self.quiet)
        try? FileManager.default.removeItem(atPath: storage + "/state.json")
        #expect(await fresh.pass(wanted, now: Date()) == ["production"])
    }
}
