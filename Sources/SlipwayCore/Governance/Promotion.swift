import Foundation

/// `approvals:`: how many people must approve a deploy to the environment, with which roles, and how
/// long an approval counts. The requester never approves their own request.
public struct ApprovalSettings: Sendable, Equatable {
    public var required: Int
    public var roles: [Role]
    public var expireAfter: Duration
    public init(required: Int, roles: [Role] = [.approver], expireAfter: Duration = .seconds(86_400)) {
        self.required = required
        self.roles = roles
        self.expireAfter = expireAfter
    }
}

/// What the promotion gate knows about a release in the environment it must come from.
public struct PromotionFacts: Sendable, Equatable {
    public var source: String
    public var soak: Duration
    /// When the release last finished a successful deploy there (its switch), if ever.
    public var succeededAt: Date?
    /// A rollback there since then (by hand or by the watch), with its id.
    public var rolledBackSince: Int64?
    public init(source: String, soak: Duration, succeededAt: Date?, rolledBackSince: Int64?) {
        self.source = source
        self.soak = soak
        self.succeededAt = succeededAt
        self.rolledBackSince = rolledBackSince
    }
}

/// `promote_from` + `soak`: a release reaches this environment only after it succeeded in the source
/// environment and stayed there `soak` without a rollback (a rollback there resets it).
public struct PromotionCheck: PolicyCheck {
    public let rule = "promotion"
    public init() {}

    public func evaluate(_ request: PolicyRequest, _ facts: PolicyFacts) -> PolicyDecision {
        guard request.operation == .deploy, let p = facts.promotion, let version = request.version else { return .allow }
        guard let at = p.succeededAt else {
            return .refuse(PolicyRefusal(rule: rule, reason: "release \(version) has not succeeded in '\(p.source)' yet; '\(request.environment)' only takes releases promoted from there"))
        }
        if let rollback = p.rolledBackSince {
            return .refuse(PolicyRefusal(rule: rule, reason: "release \(version) was rolled back in '\(p.source)' (deployment \(rollback)) after it succeeded there; deploy it there again and let it soak"))
        }
        let ready = at.addingTimeInterval(p.soak.seconds)
        guard ready <= facts.now else {
            let left = Duration.seconds(Int64(ready.timeIntervalSince(facts.now).rounded(.up)))
            return .refuse(PolicyRefusal(rule: rule, reason: "release \(version) has soaked in '\(p.source)' for \(DurationParsing.human(.seconds(Int64(facts.now.timeIntervalSince(at)))))"
                                             + " of \(DurationParsing.format(p.soak)); \(DurationParsing.human(left)) left", passesAt: ready))
        }
        return .allow
    }
}

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
