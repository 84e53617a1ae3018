import Crypto
import Foundation
import Logging
import SlipwayCore
import SwiftASN1
import Synchronization
import Testing
import X509
@testable import SlipwayACME
@testable import SlipwayRouter

/// ACME Renewal Information (RFC 9773): the certificate's identifier, the window's answer, and a CA's window
/// moving the renewal earlier than two thirds of the lifetime.
@Suite struct RenewalInfoTests {
    @Test func theCertificateIdentifierIsTheKeyIdentifierAndTheSerial() throws {
        // RFC 9773 §4.1's example: keyIdentifier 69:88:5B:…:D4, serial 00:87:65:43:21.
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("ari.test") }
        let aki: [UInt8] = [0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4]
        let cert = try Certificate(version: .v3, serialNumber: .init(bytes: [0x00, 0x87, 0x65, 0x43, 0x21]), publicKey: .init(key.publicKey),
                                   notValidBefore: Date(), notValidAfter: Date() + 3600, issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                                   extensions: try Certificate.Extensions { AuthorityKeyIdentifier(keyIdentifier: aki[...]) }, issuerPrivateKey: .init(key))
        let pem = try cert.serializeAsPEM().pemString
        #expect(RenewalInfo.certID(pem) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", "\(RenewalInfo.certID(pem) ?? "nil") serial \(Array(cert.serialNumber.bytes))")
        let window = RenewalInfo.window(Array(#"{"suggestedWindow":{"start":"2027-01-03T00:00:00Z","end":"2027-01-04T00:00:00.500Z"}}"#.utf8))
        #expect(window?.start == Date(timeIntervalSince1970: 1_798_934_400) && window?.end == Date(timeIntervalSince1970: 1_799_020_800.5))
        #expect(RenewalInfo.window(Array("{}".utf8)) == nil)
    }

    @Test func aSuggestedWindowMovesTheRenewalEarlierNeverLater() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        var r = RenewalSchedule.succeeded(CertificateRecord(), names: ["a.test"], notBefore: t0, notAfter: t0 + 90 * 86_400, now: t0)
        r.suggestedRenewal = t0 + 10 * 86_400
        #expect(RenewalSchedule.next(r, wanted: ["a.test"], now: t0) == t0 + 10 * 86_400)
        r.suggestedRenewal = t0 + 80 * 86_400
        #expect(RenewalSchedule.next(r, wanted: ["a.test"], now: t0) == t0 + 60 * 86_400)
        #expect(RenewalWindow(start: t0, end: t0 + 100).pick(jitter: 0.25) == t0 + 25)
    }

    /// A CA whose renewal information says "now-ish": the certificate is renewed in that window, long before two thirds.
    final class EarlyCA: CertificateIssuer, Sendable {
        let window: RenewalWindow
        let issued = Mutex(0), asked = Mutex(0)
        init(window: RenewalWindow) { self.window = window }
        func issue(names: [String], options: ACMEOptions, responder: any ChallengeResponder) async throws(ACMEFailure) -> IssuedCertificate {
            issued.withLock { $0 += 1 }
            do { return try ACMEManagerTests.certificate(names[0]) } catch { throw ACMEFailure(.protocolError, "\(error)") }
        }
        func renewalWindow(chainPEM: String, options: ACMEOptions) async throws(ACMEFailure) -> RenewalWindow? {
            asked.withLock { $0 += 1 }
            return window
        }
    }

    @Test func theManagerRenewsInTheCAsWindowAndAsksForItEverySixHours() async throws {
        let serving = try ACMEManagerTests.serving()
        defer { serving.remove() }
        let (wanted, first) = (serving.wanted, serving.certificate)
        let t0 = try #require(CertificateFacts(pem: first.chainPEM)).notBefore + 3600
        // Valid a week: two thirds is ~4.7 days in; the CA suggests a day in.
        let ca = EarlyCA(window: RenewalWindow(start: t0 + 86_400, end: t0 + 86_400 + 100))
        let m = ACMEManager(issuer: ca, responder: ACMEManagerTests.NoChallenges(), installed: {}, jitter: { 0.5 },
                            logger: ACMEManagerTests.quiet)
        #expect(await m.pass(wanted, now: t0) == [])
        #expect(await m.record(wanted[0]).suggestedRenewal == t0 + 86_400 + 50 && ca.asked.withLock { $0 } == 1)
        #expect(await m.pass(wanted, now: t0 + 3600) == [] && ca.asked.withLock { $0 } == 1, "asked again only after six hours")
        #expect(await m.pass(wanted, now: t0 + 86_400 + 50) == ["production"] && ca.issued.withLock { $0 } == 1)
        #expect(await m.record(wanted[0]).suggestedRenewal == nil, "the new certificate's window is asked anew")
    }
}
