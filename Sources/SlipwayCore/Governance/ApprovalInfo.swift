import Foundation

/// One person's decision on a deploy awaiting approval.
public struct ApprovalInfo: Codable, Sendable, Equatable {
    public var deploymentId: Int64
    public var user: String
    /// `approve` or `reject`.
    public var decision: String
    public var comment: String?
    public var time: Date
    /// The release's digest when it was given: a changed release voids it.
    public var digest: String
    public init(deploymentId: Int64, user: String, decision: String, comment: String?, time: Date, digest: String) {
        self.deploymentId = deploymentId
        self.user = user
        self.decision = decision
        self.comment = comment
        self.time = time
        self.digest = digest
    }
    enum CodingKeys: String, CodingKey { case user, decision, comment, time, digest, deploymentId = "deployment_id" }

    /// The approvals that count now: approving, not the requester's, for this digest, younger than the limit, one per user.
    public static func counting(_ all: [ApprovalInfo], requester: String, digest: String, now: Date, expireAfter: Duration) -> [ApprovalInfo] {
        var seen = Set<String>()
        return all.filter { a in
            a.decision == "approve" && a.user != requester && a.digest == digest && now.timeIntervalSince(a.time) < expireAfter.seconds && seen.insert(a.user).inserted
        }
    }
}

/// `POST /v1/approvals`.
public struct ApprovalRequest: Codable, Sendable {
    public var deploymentId: Int64
    public var decision: String
    public var comment: String?
    public init(deploymentId: Int64, decision: String, comment: String?) {
        self.deploymentId = deploymentId
        self.decision = decision
        self.comment = comment
    }
    enum CodingKeys: String, CodingKey { case decision, comment, deploymentId = "deployment_id" }
}

/// A deploy awaiting approval: the approvals that count and how many it needs.
public struct ApprovalStatus: Codable, Sendable, Equatable {
    public var deployment: DeploymentInfo
    public var required: Int
    public var approvals: [ApprovalInfo]
    public var counting: Int
    public init(deployment: DeploymentInfo, required: Int, approvals: [ApprovalInfo], counting: Int) {
        self.deployment = deployment
        self.required = required
        self.approvals = approvals
        self.counting = counting
    }
}
