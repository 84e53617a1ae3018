import Foundation

/// A running post-deploy watch, persisted on the environment so a daemon restart keeps watching.
public struct WatchInfo: Codable, Sendable, Equatable {
    public var deploymentId: Int64
    public var release: String
    /// The warm release a failed watch rolls back to.
    public var previous: String
    public var until: Date
    /// The last interval's figures, for `status` and `deploy --watch` ("1234 requests, 0.1% errors, p99 12 ms (10s)").
    public var last: String?

    public init(deploymentId: Int64, release: String, previous: String, until: Date) {
        self.deploymentId = deploymentId
        self.release = release
        self.previous = previous
        self.until = until
    }

    enum CodingKeys: String, CodingKey {
        case release, previous, until, last
        case deploymentId = "deployment_id"
    }
}
