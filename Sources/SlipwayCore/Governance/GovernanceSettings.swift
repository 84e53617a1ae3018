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
    public init() {}
}
