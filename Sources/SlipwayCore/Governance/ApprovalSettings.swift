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
