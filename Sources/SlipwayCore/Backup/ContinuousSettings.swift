import Foundation

/// `backup.continuous`: SQLite sources archived as the app writes (their WAL's committed frames shipped to the stores
/// within `max_lag`, on top of a snapshot taken when a generation starts), so a restore can go to any second.
public struct ContinuousSettings: Sendable, Equatable {
    /// How long a committed transaction may wait before it is in the stores (the archive's RPO).
    public var maxLag: Duration
    /// How often a new generation (a fresh snapshot) starts; restores replay at most this much WAL.
    public var snapshotEvery: Duration

    public init(maxLag: Duration = .seconds(1), snapshotEvery: Duration = .seconds(86_400)) {
        self.maxLag = maxLag
        self.snapshotEvery = snapshotEvery
    }
}

extension BackupSettings {
    /// The sources archived continuously: SQLite sources, when `backup.continuous` is on (or the source says
    /// `continuous: true`) and the source does not say `continuous: false`.
    public var continuousSources: [BackupSourceConfig] {
        sources.filter { s in
            guard case .sqlite = s.kind else { return false }
            return s.continuous ?? (continuous != nil)
        }
    }

    /// The continuous settings in force (the defaults when only a source turned it on).
    public var continuousSettings: ContinuousSettings { continuous ?? ContinuousSettings() }
}
