import SlipwayCore

/// What a change of an environment's row is audited as, in the same transaction.
public struct AuditNote: Sendable {
    public var actor: Principal
    public var action: String
    public var target: String?
    public var outcome: String
    public var detail: String
    public var before: String?
    public var after: String?

    public init(_ actor: Principal, action: String, target: String? = nil, outcome: String, detail: String, before: String? = nil, after: String? = nil) {
        self.actor = actor
        self.action = action
        self.target = target
        self.outcome = outcome
        self.detail = detail
        self.before = before
        self.after = after
    }
}
