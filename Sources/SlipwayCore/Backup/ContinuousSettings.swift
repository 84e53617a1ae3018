import Foundation

/// `backup.continuous`: SQLite and PostgreSQL sources archived as the app writes (SQLite's committed WAL frames, the
/// server's WAL through a replication slot, shipped to the stores within `max_lag`, on top of a snapshot or base
/// backup taken every `snapshot_every`), so a restore can go to any second.
public struct ContinuousSettings: Sendable, Equatable {
    /// How long a committed transaction may wait before it is in the stores (the archive's RPO).
    public var maxLag: Duration
    /// How often a new generation (a fresh snapshot) starts; restores replay at most this much WAL.
    public var snapshotEvery: Duration
    /// `keep`: how far back every second stays restorable (nil: two `snapshot_every`). The archive keeps every
    /// snapshot or base begun within it, the newest one before it, and all the log from that one on.
    public var keep: Duration?

    /// The window every point of which stays restorable.
    public var window: Duration { keep ?? snapshotEvery * 2 }

    /// How often an archiver looks at its source: a tenth of `max_lag`, between 50 and 250 ms (a transaction's time
    /// is when it was seen).
    public var pollInterval: Duration { min(.milliseconds(250), max(.milliseconds(50), maxLag / 10)) }

    public init(maxLag: Duration = .seconds(1), snapshotEvery: Duration = .seconds(86_400)) {
        self.maxLag = maxLag
        self.snapshotEvery = snapshotEvery
    }
}

extension BackupSettings {
    /// The sources archived continuously: SQLite and PostgreSQL sources, when `backup.continuous` is on (or the
    /// source says `continuous: true`) and the source does not say `continuous: false`.
    public var continuousSources: [BackupSourceConfig] {
        sources.filter { s in
            switch s.kind {
            case .sqlite, .postgres: s.continuous ?? (continuous != nil)
            case .mysql, .directory: false
            }
        }
    }

    /// The continuous settings in force (the defaults when only a source turned it on).
    public var continuousSettings: ContinuousSettings { continuous ?? ContinuousSettings() }
}
