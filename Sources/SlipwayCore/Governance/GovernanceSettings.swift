import Foundation

/// `environments.<env>` governance: windows, freezes, whether rollbacks pass a freeze, promotion and approvals.
public struct GovernanceSettings: Sendable, Equatable {
    public var windows: [DeployWindow] = []
    public var freezes: [DeployFreeze] = []
    public var rollbackInFreeze = true
    /// The environment a release must have succeeded in first, and how long it must have stayed there.
    public var promoteFrom: String?
    public var soak: Duration = .zero
    public var approvals: ApprovalSettings?
    /// `branches:`: the git branches releases must be built from (empty: any).
    public var branches: [GlobPattern] = []
    /// `order:`: where the environment stands in the path to production (lists sort by it).
    public var order: Int?
    public init() {}
}
