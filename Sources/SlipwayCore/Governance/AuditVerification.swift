import Foundation

/// `slipway audit verify`: the chain walked from the first entry.
public struct AuditVerification: Codable, Sendable, Equatable {
    public var ok: Bool
    public var entries: Int
    /// The first entry whose hash does not match its content and the one before it.
    public var firstBad: Int64?
    public init(ok: Bool, entries: Int, firstBad: Int64?) {
        self.ok = ok
        self.entries = entries
        self.firstBad = firstBad
    }
    enum CodingKeys: String, CodingKey { case ok, entries, firstBad = "first_bad" }
}
