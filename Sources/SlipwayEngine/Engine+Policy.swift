import Foundation
import SlipwayCore
import SlipwayStore

extension Engine {
    /// Runs the policy checks before a deployment, rollback, scale or restore starts. A refusal is
    /// audited and thrown as a policy error (exit 3); nothing else changes.
    func admit(_ request: PolicyRequest, now: Date = Date()) throws(SlipwayError) {
        let facts = PolicyFacts(lock: try store.locks().first { $0.environment == request.environment }, lockTTL: leaseSettings.ttl, now: now,
                                badReleases: try store.environment(request.environment).badReleases ?? [:])
        guard case .refuse(let why) = policy.evaluate(request, facts) else { return }
        let target = request.version.map { "\(request.environment)/\($0)" } ?? request.environment
        store.audit(request.actor, action: request.operation.rawValue, target: target, outcome: "refused", detail: "\(why.rule): \(why.reason)")
        throw SlipwayError(.policy, why.reason, cause: "rule: \(why.rule)" + (why.passesAt.map { ", would pass at \(Self.stamp($0))" } ?? ""))
    }
}
