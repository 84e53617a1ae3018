import Foundation

/// A certificate an environment serves over HTTPS, as the router loaded it (`slipway certs`, `/metrics`).
public struct CertificateInfo: Codable, Sendable, Equatable {
    public var environment: String
    /// Its `router.listen_tls` address.
    public var address: String
    /// The route's hosts (empty: every host on the address).
    public var hosts: [String]
    public var certFile: String
    public var subject: String?
    public var issuer: String?
    /// The DNS names it is valid for (subjectAltName).
    public var names: [String]
    public var notBefore: Date?
    public var notAfter: Date?
    /// When the router read it (at its table's arrival, or when the file changed).
    public var loadedAt: Date?
    /// Why the changed files did not load, while this one keeps serving (nil: the files serve as they are).
    public var error: String?
    /// For `tls: acme`: where it comes from and how its renewal goes (nil: files the user provides).
    public var acme: ACMERenewal?

    public init(environment: String, address: String, hosts: [String], certFile: String, subject: String? = nil, issuer: String? = nil,
                names: [String] = [], notBefore: Date? = nil, notAfter: Date? = nil, loadedAt: Date? = nil, error: String? = nil) {
        self.environment = environment
        self.address = address
        self.hosts = hosts
        self.certFile = certFile
        self.subject = subject
        self.issuer = issuer
        self.names = names
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.loadedAt = loadedAt
        self.error = error
    }

    /// The names the metrics and alerts speak of: the route's hosts, else the certificate's own names.
    public var shownHosts: [String] { hosts.isEmpty ? names : hosts }

    enum CodingKeys: String, CodingKey {
        case environment, address, hosts, subject, issuer, names, error, acme
        case certFile = "cert_file", notBefore = "not_before", notAfter = "not_after", loadedAt = "loaded_at"
    }
}

/// How an ACME certificate's renewal goes, as the router's `state.json` says.
public struct ACMERenewal: Codable, Sendable, Equatable {
    /// The CA's directory URL.
    public var directory: String
    /// What serves is the placeholder: no certificate was issued yet.
    public var placeholder: Bool
    public var lastRenewal: Date?
    /// When the router will ask the CA next (the renewal at two thirds of the lifetime, or a retry).
    public var nextAttempt: Date?
    /// Failed attempts since the last success.
    public var failures: Int
    public var lastError: String?

    public init(directory: String, placeholder: Bool, lastRenewal: Date? = nil, nextAttempt: Date? = nil, failures: Int = 0, lastError: String? = nil) {
        self.directory = directory
        self.placeholder = placeholder
        self.lastRenewal = lastRenewal
        self.nextAttempt = nextAttempt
        self.failures = failures
        self.lastError = lastError
    }

    enum CodingKeys: String, CodingKey {
        case directory, placeholder, failures
        case lastRenewal = "last_renewal", nextAttempt = "next_attempt", lastError = "last_error"
    }
}

/// The built-in `certificate-expiring` alert's decision: fires while a served certificate ends within `within`.
public enum CertificateExpiry {
    public static let warning: Duration = .seconds(14 * 86_400)

    /// Fires (with a summary naming the hosts and the day) when `notAfter` is less than `within` after `now`.
    public static func judge(hosts: [String], file: String, notAfter: Date, now: Date, within: Duration = warning) -> (firing: Bool, summary: String) {
        let left = notAfter.timeIntervalSince(now)
        let who = hosts.isEmpty ? file : hosts.joined(separator: ", ")
        let day = ISO8601DateFormatter().string(from: notAfter)
        if left <= 0 { return (true, "the certificate for \(who) (\(file)) expired at \(day); renew it: HTTPS clients refuse it") }
        let days = Int(left / 86_400)
        guard left < Double(within.components.seconds) else { return (false, "the certificate for \(who) is valid until \(day)") }
        return (true, "the certificate for \(who) (\(file)) expires at \(day), in \(days == 0 ? "less than a day" : "\(days) day(s)"); renew it")
    }
}
