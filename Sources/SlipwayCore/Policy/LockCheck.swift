import Foundation

/// One operation per environment at a time: refused while another holds a live lock; a lock whose
/// heartbeat is older than the TTL is stale and may be taken over.
public struct LockCheck: PolicyCheck {
    public let rule = "lock"
    public init() {}

    public func evaluate(_ request: PolicyRequest, _ facts: PolicyFacts) -> PolicyDecision {
        guard let lock = facts.lock else { return .allow }
        return Self.decide(lock, environment: request.environment, ttl: facts.lockTTL, now: facts.now)
    }

    /// The same decision the lease takes inside its transaction.
    public static func decide(_ lock: LockInfo, environment: String, ttl: TimeInterval, now: Date) -> PolicyDecision {
        let staleAt = lock.heartbeatAt.addingTimeInterval(ttl)
        guard now < staleAt else { return .allow }
        let what = lock.deploymentId.map { "deployment \($0)" } ?? "an operation"
        let since = ISO8601DateFormatter().string(from: lock.acquiredAt)
        return .refuse(PolicyRefusal(rule: "lock",
                                     reason: "environment '\(environment)' is locked by \(lock.holder) (\(what), since \(since)); "
                                         + "wait for it to finish, or run 'slipway lock release --env \(environment)' if it is stuck",
                                     passesAt: staleAt))
    }
}
