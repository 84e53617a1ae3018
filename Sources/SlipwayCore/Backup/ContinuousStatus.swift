import Foundation

/// Where a source's continuous archive stands (`GET /v1/backups/continuous`, `slipway backup continuous`).
public struct ContinuousStatus: Codable, Sendable, Equatable {
    public var environment: String
    public var source: String
    /// The generation being written (its snapshot's time and a random part).
    public var generation: String?
    /// When the newest shipped transaction was seen committed.
    public var lastShipped: Date?
    /// Segments shipped since the daemon started.
    public var segments: Int
    /// Why it is not archiving right now (nil: it is).
    public var error: String?
    /// PostgreSQL: the WAL the server keeps for this source's replication slot (bytes), as last looked at.
    public var retainedBytes: Int64?
    /// How long the oldest change read but not yet in every store has waited, or how long archiving has been failing
    /// (0: everything read is shipped). The built-in alert `continuous-archive-lagging` fires past `max_lag` × 10.
    public var lagSeconds: Double?

    public init(environment: String, source: String, generation: String? = nil, lastShipped: Date? = nil, segments: Int = 0, error: String? = nil,
                retainedBytes: Int64? = nil, lagSeconds: Double? = nil) {
        self.environment = environment
        self.source = source
        self.generation = generation
        self.lastShipped = lastShipped
        self.segments = segments
        self.error = error
        self.retainedBytes = retainedBytes
        self.lagSeconds = lagSeconds
    }

    /// `lag_seconds` of an archiver: since the earliest of `since` (what waits to be shipped, when failing began), 0 when none.
    public static func lag(since: [Date?], now: Date) -> Double {
        since.compactMap { $0 }.min().map { max(0, now.timeIntervalSince($0)) } ?? 0
    }

    enum CodingKeys: String, CodingKey {
        case environment, source, generation, segments, error
        case lastShipped = "last_shipped"
        case retainedBytes = "retained_bytes"
        case lagSeconds = "lag_seconds"
    }
}
