import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Engine {
    /// Runs the policy checks before a deployment, rollback, scale or restore starts. A refusal is
    /// audited and thrown as a policy error (exit 3); nothing else changes. A window or freeze passed with
    /// `--override-window` is audited with its reason.
    func admit(_ request: PolicyRequest, reason: String? = nil, now: Date = Date()) throws(SlipwayError) {
        let facts = try policyFacts(request.environment, version: request.version, now: now)
        let target = request.version.map { "\(request.environment)/\($0)" } ?? request.environment
        if request.overrideWindow {
            guard let reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw .usage("--override-window needs --reason \"…\" (it is recorded in the audit log)")
            }
            var strict = request
            strict.overrideWindow = false
            if case .refuse(let why) = policy.evaluate(strict, facts), why.rule == "window" || why.rule == "freeze" {
                try store.audit(request.actor, action: "policy.override", target: target, outcome: "overridden",
                            detail: "\(why.rule): \(why.reason) — reason: \(reason)")
            }
        }
        guard case .refuse(let why) = policy.evaluate(request, facts) else { return }
        try store.audit(request.actor, action: request.operation.rawValue, target: target, outcome: "refused", detail: "\(why.rule): \(why.reason)")
        throw SlipwayError(.policy, why.reason, cause: "rule: \(why.rule)" + (why.passesAt.map { ", would pass at \(Self.stamp($0))" } ?? ""))
    }

    func policyFacts(_ environment: String, version: String?, now: Date) throws(SlipwayError) -> PolicyFacts {
        var facts = PolicyFacts(lock: try store.locks().first { $0.environment == environment }, lockTTL: leaseSettings.ttl, now: now,
                                badReleases: try store.environment(environment).badReleases ?? [:])
        facts.governance = config.environments[environment]?.governance ?? GovernanceSettings()
        facts.release = version.flatMap { releases.info($0) }
        if let source = facts.governance.promoteFrom, let version {
            // The release's last successful deploy there, and any rollback away from it since.
            let history = try store.deployments(environment: source, limit: 500)
            let success = history.first { $0.version == version && $0.kind == .deploy && $0.state == .succeeded }
            let rollback = success.flatMap { s in history.first { $0.id > s.id && $0.kind == .rollback && $0.previousVersion == version } }
            facts.promotion = PromotionFacts(source: source, soak: facts.governance.soak, succeededAt: success?.finishedAt, rolledBackSince: rollback?.id)
        }
        return facts
    }

    /// `slipway gates`: every check's verdict for deploying (or rolling back to) `version` now.
    public func gates(environment: String?, version: String, operation: PolicyRequest.Operation, actor: Principal) throws(SlipwayError) -> GateReport {
        let env = try config.environment(environment)
        let request = PolicyRequest(operation: operation, environment: env.name, version: version, actor: actor)
        var results = policy.evaluateAll(request, try policyFacts(env.name, version: version, now: Date())).map { rule, decision -> GateResult in
            switch decision {
            case .allow: GateResult(rule: rule, pass: true, reason: nil, passesAt: nil)
            case .refuse(let why): GateResult(rule: rule, pass: false, reason: why.reason, passesAt: why.passesAt)
            }
        }
        if operation == .deploy, let approvals = try approvalGate(env, version: version) { results.append(approvals) }
        return GateReport(environment: env.name, version: version, operation: operation.rawValue, pass: results.allSatisfy(\.pass), gates: results)
    }
}
