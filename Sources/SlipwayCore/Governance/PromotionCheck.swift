import Foundation

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
