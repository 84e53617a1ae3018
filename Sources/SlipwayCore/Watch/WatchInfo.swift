import Foundation

/// A running post-deploy watch, persisted on the environment so a daemon restart keeps watching.
public struct WatchInfo: Codable, Sendable, Equatable {
    public var deploymentId: Int64
    public var release: String
    /// The warm release a failed watch rolls back to.
    public var previous: String
    public var until: Date

    public init(deploymentId: Int64, release: String, previous: String, until: Date) {
        self.deploymentId = deploymentId
        self.release = release
        self.previous = previous
        self.until = until
    }

    enum CodingKeys: String, CodingKey {
        case release, previous, until
        case deploymentId = "deployment_id"
    }
}
