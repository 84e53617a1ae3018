import Foundation

/// `generation.json` of a continuous archive's generation, written after its snapshot: a generation without it is
/// incomplete and never restored from.
public struct ContinuousGeneration: Codable, Sendable, Equatable {
    public static let file = "generation.json"
    public var id: String
    /// When its snapshot was taken: the earliest point it restores to.
    public var startedAt: Date
    public var source: String
    /// Snapshot and segments are encrypted (`.enc`, the backups' key).
    public var encrypted: Bool

    public init(id: String, startedAt: Date, source: String, encrypted: Bool) {
        self.id = id
        self.startedAt = startedAt
        self.source = source
        self.encrypted = encrypted
    }

    enum CodingKeys: String, CodingKey {
        case id, source, encrypted
        case startedAt = "started_at"
    }
}
