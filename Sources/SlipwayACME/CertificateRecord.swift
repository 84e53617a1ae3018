import Foundation
import SlipwayCore

/// What the edge remembers about one ACME certificate between attempts and across restarts (`state.json`):
/// what it holds, when it last tried and why that failed, and when it may try again. Persisted before an
/// attempt's outcome is acted on, so a crash loop cannot turn into a request loop against the CA.
public struct CertificateRecord: Codable, Sendable, Equatable {
    /// The names the certificate on disk is for (empty: none issued yet).
    public var names: [String] = []
    public var notBefore: Date?
    public var notAfter: Date?
    /// The last issuance that succeeded.
    public var lastRenewal: Date?
    /// Attempts in the last hour (older ones are dropped), successful or not.
    public var attempts: [Date] = []
    /// Failed attempts since the last success.
    public var failures: Int = 0
    public var lastError: String?
    /// Not before this (set by a failure: backoff, `Retry-After`, the hourly cap).
    public var nextAttempt: Date?
    /// A time in the CA's suggested renewal window (RFC 9773), when it offers one: renewal then if earlier.
    public var suggestedRenewal: Date?
    /// When the renewal information was last asked for (it is asked again after six hours).
    public var renewalInfoAt: Date?

    public init() {}

    /// What the router's report says of a certificate's renewal (a daemon reading its app's on a shared edge).
    public init(_ renewal: ACMERenewal, notAfter: Date?) {
        self.notAfter = notAfter
        lastRenewal = renewal.lastRenewal
        failures = renewal.failures
        lastError = renewal.lastError
        nextAttempt = renewal.nextAttempt
    }

    enum CodingKeys: String, CodingKey {
        case names, attempts, failures
        case notBefore = "not_before", notAfter = "not_after", lastRenewal = "last_renewal", lastError = "last_error", nextAttempt = "next_attempt"
        case suggestedRenewal = "suggested_renewal", renewalInfoAt = "renewal_info_at"
    }
}

/// The renewal state of every ACME certificate under one storage directory, by environment.
public struct ACMEState: Codable, Sendable, Equatable {
    public var certificates: [String: CertificateRecord] = [:]

    public init() {}

    /// Reads `path`; an absent file is an empty state, an unreadable one too (logged by the caller): the worst
    /// it costs is one attempt each, which the hourly cap still bounds.
    public static func load(_ path: String) -> (state: ACMEState, error: String?) {
        guard let data = FileManager.default.contents(atPath: path) else { return (ACMEState(), nil) }
        do { return (try decoder.decode(ACMEState.self, from: data), nil) } catch { return (ACMEState(), "\(error)") }
    }

    public func save(_ path: String) throws(ACMEFailure) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(self) } catch { throw ACMEFailure(.storage, "cannot encode the ACME state", cause: "\(error)") }
        try ACMEFiles.writePrivate(data, to: path)
    }

    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
