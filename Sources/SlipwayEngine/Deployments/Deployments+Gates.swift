import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Deployments {
    /// `slipway gates`: every check's verdict for deploying (or rolling back to) `version` now.
    public func gates(environment: String?, version: String, operation: PolicyRequest.Operation, actor: Principal) throws(SlipwayError) -> GateReport {
        let env = try config.environment(environment)
        let request = PolicyRequest(operation: operation, environment: env.name, version: version, actor: actor)
        var results = policy.evaluateAll(request, try context.policyFacts(env.name, version: version, now: Date())).map { rule, decision -> GateResult in
            switch decision {
            case .allow: GateResult(rule: rule, pass: true, reason: nil, passesAt: nil)
            case .refuse(let why): GateResult(rule: rule, pass: false, reason: why.reason, passesAt: why.passesAt)
            }
        }
        if operation == .deploy, let approvals = try approvals.gate(env, version: version) { results.append(approvals) }
        return GateReport(environment: env.name, version: version, operation: operation.rawValue, pass: results.allSatisfy(\.pass), gates: results)
    }
}
