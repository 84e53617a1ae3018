import Foundation
import SlipwayACME
import SlipwayCore
@testable import SlipwayFleet
import Synchronization
import Testing

/// A fleet's certificate when the CA cannot be reached, against a real PostgreSQL: the attempt and its failure are
/// recorded in the shared state (so every operator's controller backs off), the kept certificate is still installed on
/// every host, and a controller that finds another asking the CA installs what is kept without asking itself.
@Suite(.serialized)
struct FleetCertificateRenewalTests {
    final class Host: CertificateHost {
        let name: String
        let installed = Mutex<[String]>([])
        init(_ name: String) { self.name = name }
        func challenge(app: String, _ answer: ChallengeAnswer) async throws(SlipwayError) {}
        func installCertificate(app: String, environment: String, _ install: CertificateInstall) async throws(SlipwayError) {
            installed.withLock { $0.append(install.chainPEM) }
        }
    }

    @Test(.timeLimit(.minutes(1)), .enabled(if: SharedStateTests.canRun, Comment(rawValue: TestServices.skipNote)))
    func aCAThatIsDownIsRecordedBackedOffAndTheKeptCertificateStillInstalled() async throws {
        let url = try await SharedStateTests.freshDatabase()
        let dir = try EdgeTLSTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = try TestCertificates(in: dir, name: "shop", hosts: ["shop.test"])
        let shared = try await SharedState.connect(url, app: "shop")
        let other = try await SharedState.connect(url, app: "shop")
        // A certificate kept from before, whose record says nothing: due now.
        var kept = SharedCertificate(environment: "production")
        kept.chainPEM = try String(contentsOfFile: made.certFile, encoding: .utf8)
        kept.keyPEM = try String(contentsOfFile: made.keyFile, encoding: .utf8)
        try await shared.save(kept, withCertificate: true)

        let hosts = [Host("h1"), Host("h2")]
        let options = ACMEOptions(directory: "https://127.0.0.1:1/dir", storage: dir + "/unused")
        let lines = Mutex<[String]>([])
        let certificates = FleetCertificates(app: "shop", environment: "production", names: ["shop.test"], options: options, shared: shared,
                                             hosts: hosts, log: { line in lines.withLock { $0.append(line) } })
        let now = Date()
        let first = try await certificates.ensure(now: now, jitter: 0)
        #expect(first.issued == false && first.error != nil && first.installed == ["h1", "h2"] && first.failed.isEmpty, "\(first)")
        let record = try #require(try await other.certificate(environment: "production")).record
        #expect(record.failures == 1 && record.attempts.count == 1 && (record.nextAttempt ?? now) > now && record.lastError != nil, "\(record)")
        #expect(lines.withLock { $0 }.contains { $0.contains("the current one keeps serving") })
        for h in hosts { #expect(h.installed.withLock { $0 } == [kept.chainPEM]) }

        // Backing off: a second look at once does not ask the CA.
        _ = try await certificates.ensure(now: now.addingTimeInterval(1), jitter: 0)
        #expect(try await other.certificate(environment: "production")?.record.attempts.count == 1)

        // Another controller asking the CA now (its lock held): this one installs what is kept and does not ask.
        #expect(try await other.certificateLock(environment: "production"))
        let third = try await certificates.ensure(now: now.addingTimeInterval(86_400), jitter: 0)
        #expect(third.installed == ["h1", "h2"] && third.error == nil, "\(third)")
        #expect(try await other.certificate(environment: "production")?.record.attempts.count == 1)
        #expect(lines.withLock { $0 }.contains { $0.contains("another controller is asking the CA now") })
        await other.certificateUnlock(environment: "production")
        await shared.close()
        await other.close()
    }
}
