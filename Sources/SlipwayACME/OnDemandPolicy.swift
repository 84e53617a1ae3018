import Foundation

/// Whether a handshake for a name no certificate covers may lead to a CA request (on-demand TLS), as a pure
/// function of what the router remembers. The order matters: the cheap refusals come before the ask endpoint
/// is called, and the ask endpoint before the CA.
public enum OnDemandPolicy {
    public enum Decision: Equatable, Sendable {
        /// Ask the endpoint, then the CA.
        case obtain
        /// Not now; the reason is logged.
        case refuse(String)
    }

    /// How long a name the ask endpoint refused is not asked about again.
    public static let refusedFor: TimeInterval = 60

    /// A plausible DNS name (what SNI carries): letters, digits, hyphens and dots, 253 characters at most, two labels or more, not an address.
    public static func isName(_ name: String) -> Bool {
        guard name.count <= 253, name.contains("."), !name.hasPrefix("."), !name.hasSuffix(".") else { return false }
        // An address is not a name (the last label of a name is never all digits).
        if let last = name.split(separator: ".").last, last.allSatisfy(\.isNumber) { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    /// `record`: the name's own; `newNamesInHour`: attempts for names on demand in the last hour, all names together.
    public static func decide(name: String, record: CertificateRecord, newNamesInHour: Int, maxPerHour: Int, refusedUntil: Date?, now: Date) -> Decision {
        guard isName(name) else { return .refuse("'\(name)' is not a DNS name") }
        if let until = refusedUntil, until > now { return .refuse("the ask endpoint refused \(name) less than \(Int(refusedFor)) s ago") }
        guard RenewalSchedule.isDue(record, wanted: [name], now: now) else {
            return .refuse("\(name) waits for its next attempt (\(record.lastError ?? "backoff"))")
        }
        guard newNamesInHour < maxPerHour else { return .refuse("\(maxPerHour) certificates on demand in the last hour: the limit (router.acme.on_demand.max_per_hour)") }
        return .obtain
    }
}
