/// P0 critical · P1 high · P2 medium · P3 info. `P0 < P1`: a smaller number is more severe.
public enum Severity: String, Codable, Sendable, CaseIterable, Comparable {
    case p0 = "P0", p1 = "P1", p2 = "P2", p3 = "P3"

    public static func < (a: Severity, b: Severity) -> Bool { a.rawValue < b.rawValue }

    /// Whether this is at least as severe as `other` (`P0` meets `min_severity: P1`).
    public func meets(_ other: Severity) -> Bool { self <= other }

    public var label: String {
        switch self {
        case .p0: "critical"
        case .p1: "high"
        case .p2: "medium"
        case .p3: "info"
        }
    }
}
