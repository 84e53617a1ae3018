import Foundation

/// What a restore will do, shown before it runs (`slipway backup restore` prints it first; `--dry-run` only prints it):
/// the point the data goes back to, each source and how far its archive reaches, the deployments whose data changes
/// it undoes, and what it leaves as it is.
public struct RestorePlan: Codable, Sendable, Equatable {
    public struct Source: Codable, Sendable, Equatable {
        public var name: String
        public var kind: String
        /// The newest change the archive (or the backup) holds of this source.
        public var archivedUntil: Date?
        /// How far the continuous archive is behind right now (nil: a backup, or not archiving).
        public var lagSeconds: Double?
        public init(name: String, kind: String, archivedUntil: Date?, lagSeconds: Double?) {
            self.name = name
            self.kind = kind
            self.archivedUntil = archivedUntil
            self.lagSeconds = lagSeconds
        }
        enum CodingKeys: String, CodingKey { case name, kind, archivedUntil = "archived_until", lagSeconds = "lag_seconds" }
    }

    public struct Deployment: Codable, Sendable, Equatable {
        public var id: Int64
        public var version: String
        public var startedAt: Date
        public init(id: Int64, version: String, startedAt: Date) {
            self.id = id
            self.version = version
            self.startedAt = startedAt
        }
        enum CodingKeys: String, CodingKey { case id, version, startedAt = "started_at" }
    }

    public var environment: String
    /// The backup's id or the point's label.
    public var label: String
    /// The moment the data goes back to (nil: everything the archive holds).
    public var point: Date?
    public var target: String
    public var sources: [Source]
    /// Deployments going at the point or begun after it: their data changes are undone, their code keeps running.
    public var deploymentsAfter: [Deployment]
    /// What is lost and what is kept, for people.
    public var lost: [String]
    public var kept: [String]

    public init(environment: String, label: String, point: Date?, target: String, sources: [Source], deploymentsAfter: [Deployment],
                lost: [String], kept: [String]) {
        self.environment = environment
        self.label = label
        self.point = point
        self.target = target
        self.sources = sources
        self.deploymentsAfter = deploymentsAfter
        self.lost = lost
        self.kept = kept
    }

    enum CodingKeys: String, CodingKey {
        case environment, label, point, target, sources, deploymentsAfter = "deployments_after", lost, kept
    }
}
