import Foundation

/// When to ask the CA for a certificate: the decisions, as pure functions of a record and the time.
///
/// - A certificate is due when there is none for the wanted names, or two thirds of its lifetime have passed.
/// - A failure backs off exponentially from a minute (doubling, at most six hours) with ±20% jitter, never
///   sooner than the CA's `Retry-After` (honoured up to a week).
/// - Whatever the backoff says, one certificate is tried at most three times in any hour.
/// - The certificate on disk is never removed by a failure: it serves until it is replaced.
public enum RenewalSchedule {
    public static let maxAttemptsPerHour = 3
    public static let firstBackoff: TimeInterval = 60
    public static let maxBackoff: TimeInterval = 6 * 3600
    public static let maxRetryAfter: TimeInterval = 7 * 86_400

    /// How often the CA's renewal information is asked for a certificate.
    public static let renewalInfoEvery: TimeInterval = 6 * 3600

    /// Whether to ask for the renewal information of the certificate the record holds now.
    public static func wantsRenewalInfo(_ r: CertificateRecord, now: Date) -> Bool {
        guard r.notAfter != nil, !r.names.isEmpty, r.failures == 0 else { return false }
        return r.renewalInfoAt.map { now.timeIntervalSince($0) >= renewalInfoEvery } ?? true
    }

    /// Two thirds into the certificate's lifetime.
    public static func renewAt(notBefore: Date, notAfter: Date) -> Date {
        notBefore.addingTimeInterval(notAfter.timeIntervalSince(notBefore) * 2 / 3)
    }

    /// When the next attempt may be made for `wanted` names (`now` or earlier: due now).
    public static func next(_ r: CertificateRecord, wanted: [String], now: Date) -> Date {
        var at: Date
        if let nb = r.notBefore, let na = r.notAfter, Set(r.names) == Set(wanted) {
            at = renewAt(notBefore: nb, notAfter: na)
            // The CA's renewal information (RFC 9773) may say earlier.
            if let suggested = r.suggestedRenewal { at = min(at, suggested) }
        } else {
            at = now
        }
        if let n = r.nextAttempt { at = max(at, n) }
        if let capped = hourlyCap(r.attempts, now: now) { at = max(at, capped) }
        return at
    }

    public static func isDue(_ r: CertificateRecord, wanted: [String], now: Date) -> Bool { next(r, wanted: wanted, now: now) <= now }

    /// The record as an attempt starts at `now` (saved before the CA is asked: a crash mid-attempt still counts).
    public static func started(_ r: CertificateRecord, now: Date) -> CertificateRecord {
        var out = r
        out.attempts = recent(r.attempts + [now], now: now)
        return out
    }

    /// The record after the attempt `started` at `now` failed. `jitter` in 0..<1 (injected: the tests pick it).
    public static func failed(_ r: CertificateRecord, _ failure: ACMEFailure, now: Date, jitter: Double) -> CertificateRecord {
        var out = r
        out.attempts = recent(r.attempts, now: now)
        out.failures = r.failures + 1
        out.lastError = failure.description
        let exponent = Double(min(out.failures - 1, 20))
        let backoff = min(firstBackoff * pow(2, exponent), maxBackoff) * (0.8 + 0.4 * min(max(jitter, 0), 1))
        var next = now.addingTimeInterval(backoff)
        if let wait = failure.retryAfter {
            let seconds = min(Double(wait.components.seconds), maxRetryAfter)
            next = max(next, now.addingTimeInterval(seconds))
        }
        if let capped = hourlyCap(out.attempts, now: now) { next = max(next, capped) }
        out.nextAttempt = next
        return out
    }

    /// The record after the attempt `started` at `now` got a certificate for `names`, valid `notBefore`…`notAfter`.
    public static func succeeded(_ r: CertificateRecord, names: [String], notBefore: Date, notAfter: Date, now: Date) -> CertificateRecord {
        var out = r
        out.names = names
        out.notBefore = notBefore
        out.notAfter = notAfter
        out.lastRenewal = now
        out.attempts = recent(r.attempts, now: now)
        out.failures = 0
        out.lastError = nil
        out.nextAttempt = nil
        out.suggestedRenewal = nil
        out.renewalInfoAt = nil
        return out
    }

    /// With `maxAttemptsPerHour` attempts in the last hour: when the oldest of them leaves the window.
    static func hourlyCap(_ attempts: [Date], now: Date) -> Date? {
        let inHour = recent(attempts, now: now).sorted()
        guard inHour.count >= maxAttemptsPerHour else { return nil }
        return inHour[inHour.count - maxAttemptsPerHour].addingTimeInterval(3600)
    }

    static func recent(_ attempts: [Date], now: Date) -> [Date] {
        attempts.filter { now.timeIntervalSince($0) < 3600 }
    }

    /// The built-in `certificate-renewal-failed` alert: fires while the last attempt for a certificate failed.
    public static func judgeFailure(_ r: CertificateRecord, hosts: [String], now: Date) -> (firing: Bool, summary: String) {
        let who = hosts.joined(separator: ", ")
        guard r.failures > 0 else {
            return (false, r.lastRenewal.map { "the certificate for \(who) was last issued at \(ISO8601DateFormatter().string(from: $0))" } ?? "no attempt failed for \(who)")
        }
        let next = r.nextAttempt.map { "; next attempt at \(ISO8601DateFormatter().string(from: $0))" } ?? ""
        let serving = r.notAfter.map { $0 > now ? "the certificate valid until \(ISO8601DateFormatter().string(from: $0)) keeps serving" : "the certificate expired at \(ISO8601DateFormatter().string(from: $0))" }
            ?? "no certificate was issued yet: HTTPS serves a placeholder clients refuse"
        return (true, "getting a certificate for \(who) failed \(r.failures) time(s): \(r.lastError ?? "unknown error")\(next); \(serving)")
    }
}
