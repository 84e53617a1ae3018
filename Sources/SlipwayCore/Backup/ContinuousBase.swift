import Foundation

/// `base.json` of a PostgreSQL base backup in a continuous archive, written after the base itself: a base without it
/// is incomplete and never restored from. A point is restored from the newest base that finished before it, plus the
/// WAL archived from `walStart` on.
public struct ContinuousBase: Codable, Sendable, Equatable {
    public static let file = "base.json"
    public var id: String
    public var startedAt: Date
    /// When `pg_basebackup` returned: the earliest point this base restores to.
    public var finishedAt: Date
    /// The server's `system_identifier`: WAL of another cluster never applies.
    public var system: String
    /// The WAL segment the server was writing when the base began (the replay starts at or after it).
    public var walStart: String
    /// The server's major version (the scratch cluster runs the same).
    public var serverVersion: Int
    /// `wal_segment_size`: the segments' numbering steps by it.
    public var walSegmentBytes: Int
    /// The object holding the base (`base.tar` compressed, sealed when the backups are).
    public var object: String

    public init(id: String, startedAt: Date, finishedAt: Date, system: String, walStart: String, serverVersion: Int, walSegmentBytes: Int, object: String) {
        self.id = id
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.system = system
        self.walStart = walStart
        self.serverVersion = serverVersion
        self.walSegmentBytes = walSegmentBytes
        self.object = object
    }

    enum CodingKeys: String, CodingKey {
        case id, system, object
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case walStart = "wal_start"
        case serverVersion = "server_version"
        case walSegmentBytes = "wal_segment_bytes"
    }
}
