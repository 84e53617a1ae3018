import Foundation
import Testing
@testable import SlipwayACME

/// When the router asks the CA: renewal at two thirds of the lifetime, exponential backoff with jitter,
/// `Retry-After`, and at most three attempts an hour, all with the time given.
@Suite struct RenewalScheduleTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let names = ["shop.example.com"]

    func issued(_ lifetime: TimeInterval) -> CertificateRecord {
        RenewalSchedule.succeeded(CertificateRecord(), names: names, notBefore: t0, notAfter: t0 + lifetime, now: t0)
    }

    func failing(_ r: CertificateRecord, _ failure: ACMEFailure, at now: Date, jitter: Double = 0.5) -> CertificateRecord {
        RenewalSchedule.failed(RenewalSchedule.started(r, now: now), failure, now: now, jitter: jitter)
    }

    @Test func aCertificateIsDueWhenMissingForOtherNamesOrTwoThirdsThrough() {
        #expect(RenewalSchedule.isDue(CertificateRecord(), wanted: names, now: t0))
        let r = issued(90 * 86_400)
        #expect(!RenewalSchedule.isDue(r, wanted: names, now: t0 + 59 * 86_400))
        #expect(RenewalSchedule.isDue(r, wanted: names, now: t0 + 60 * 86_400))
        #expect(RenewalSchedule.next(r, wanted: names, now: t0) == t0 + 60 * 86_400)
        // Another name on the route: a new certificate now.
        #expect(RenewalSchedule.isDue(r, wanted: names + ["www.shop.example.com"], now: t0 + 1))
    }

    @Test func failuresBackOffExponentiallyWithJitterAndAtMostThreeTimesAnHour() {
        let down = ACMEFailure(.unreachable, "cannot reach the ACME CA")
        var r = failing(CertificateRecord(), down, at: t0)
        #expect(r.failures == 1 && r.nextAttempt == t0 + 60 && r.lastError == "cannot reach the ACME CA")
        #expect(!RenewalSchedule.isDue(r, wanted: names, now: t0 + 59) && RenewalSchedule.isDue(r, wanted: names, now: t0 + 60))
        r = failing(r, down, at: t0 + 60)
        #expect(r.nextAttempt == t0 + 60 + 120)
        // The third attempt in the hour: the next waits until the first leaves the window, whatever the backoff says.
        r = failing(r, down, at: t0 + 180)
        #expect(r.failures == 3 && r.nextAttempt == t0 + 3600)
        r = failing(r, down, at: t0 + 3600)
        // Attempts at +60, +180, +3600 are in the hour (the cap says +3660); the fourth backoff (480 s) says later.
        #expect(r.nextAttempt == t0 + 3600 + 480)
        // Jitter spreads a backoff over ±20%.
        let low = failing(CertificateRecord(), down, at: t0, jitter: 0), high = failing(CertificateRecord(), down, at: t0, jitter: 1)
        #expect(low.nextAttempt == t0 + 48 && high.nextAttempt == t0 + 72)
    }

    @Test func retryAfterIsHonouredUpToAWeekAndSuccessClearsTheFailures() {
        let limited = ACMEFailure(.rateLimited, "too many certificates", retryAfter: .seconds(600))
        var r = failing(issued(90 * 86_400), limited, at: t0 + 60 * 86_400)
        #expect(r.nextAttempt == t0 + 60 * 86_400 + 600)
        // Three weeks asked: a week at most (a valid certificate keeps serving meanwhile).
        r = failing(r, ACMEFailure(.rateLimited, "slow down", retryAfter: .seconds(21 * 86_400)), at: t0 + 61 * 86_400)
        #expect(r.nextAttempt == t0 + 68 * 86_400)
        #expect(r.notAfter == t0 + 90 * 86_400, "a failure keeps what the record knows of the certificate on disk")
        let ok = RenewalSchedule.succeeded(RenewalSchedule.started(r, now: t0 + 68 * 86_400), names: names, notBefore: t0 + 68 * 86_400,
                                           notAfter: t0 + 158 * 86_400, now: t0 + 68 * 86_400)
        #expect(ok.failures == 0 && ok.lastError == nil && ok.nextAttempt == nil && ok.lastRenewal == t0 + 68 * 86_400)
    }

    @Test func theRenewalFailedAlertFiresWhileTheLastAttemptFailed() {
        let r = failing(issued(90 * 86_400), ACMEFailure(.refused, "the CA could not validate shop.example.com with http-01: connection refused"), at: t0 + 60 * 86_400)
        let judged = RenewalSchedule.judgeFailure(r, hosts: names, now: t0 + 60 * 86_400)
        #expect(judged.firing && judged.summary.contains("failed 1 time(s): the CA could not validate") && judged.summary.contains("keeps serving"), "\(judged.summary)")
        let pending = RenewalSchedule.judgeFailure(failing(CertificateRecord(), ACMEFailure(.unreachable, "down"), at: t0), hosts: names, now: t0)
        #expect(pending.firing && pending.summary.contains("placeholder"), "\(pending.summary)")
        #expect(!RenewalSchedule.judgeFailure(issued(90 * 86_400), hosts: names, now: t0).firing)
    }
}

/// On-demand TLS: which handshakes for uncovered names may reach the ask endpoint and the CA.
@Suite struct OnDemandPolicyTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func onlyPlausibleNamesWithinTheLimitsAreObtained() {
        let fresh = CertificateRecord()
        #expect(OnDemandPolicy.decide(name: "shop.customer.test", record: fresh, newNamesInHour: 0, maxPerHour: 20, refusedUntil: nil, now: now) == .obtain)
        for bad in ["localhost", "127.0.0.1", "127.0.0.1.", "-bad.test", "a..test", "white space.test", "x_y.test", String(repeating: "a", count: 64) + ".test"] {
            #expect(OnDemandPolicy.decide(name: bad, record: fresh, newNamesInHour: 0, maxPerHour: 20, refusedUntil: nil, now: now) != .obtain, "\(bad)")
        }
        // The global limit: new names an hour.
        #expect(OnDemandPolicy.decide(name: "a.test", record: fresh, newNamesInHour: 20, maxPerHour: 20, refusedUntil: nil, now: now) != .obtain)
        // A name the ask endpoint refused a moment ago is not asked about again yet.
        #expect(OnDemandPolicy.decide(name: "a.test", record: fresh, newNamesInHour: 0, maxPerHour: 20, refusedUntil: now + 30, now: now) != .obtain)
        #expect(OnDemandPolicy.decide(name: "a.test", record: fresh, newNamesInHour: 0, maxPerHour: 20, refusedUntil: now - 1, now: now) == .obtain)
        // The per-name limit: a name whose last attempt failed waits for its backoff.
        let failed = RenewalSchedule.failed(RenewalSchedule.started(fresh, now: now), ACMEFailure(.refused, "invalid"), now: now, jitter: 0.5)
        #expect(OnDemandPolicy.decide(name: "a.test", record: failed, newNamesInHour: 1, maxPerHour: 20, refusedUntil: nil, now: now + 30) != .obtain)
        #expect(OnDemandPolicy.decide(name: "a.test", record: failed, newNamesInHour: 1, maxPerHour: 20, refusedUntil: nil, now: now + 60) == .obtain)
    }
}
