import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// Deploys that need `approvals.required` approvals: recorded as `awaiting_approval` without a lock, each
/// decision bound to the release's digest; the deploy starts by itself once enough count (re-checked
/// against the policy then: a window may have closed meanwhile, and the `approvals` periodic job tries again).
/// It owns the `approvals` rows; a deployment moves on (rejected, started) through `DeploymentSteps` and
/// the deployment queue.
public struct Approvals: Sendable, FeatureObject {
    let context: EngineContext
    /// The daemon run that records the transitions.
    let holder: String
    /// Where an approved deploy goes to run (`DeploymentService` serves it).
    let queue: DeploymentQueue

    var leaseSettings: LeaseSettings { context.admission.leaseSettings }

    /// Records a deploy that waits for `required` approvals (no lock is taken until it starts).
    func request(_ draft: DeploymentInfo, detail: String, required: Int, logs: String, by: Principal) throws(SlipwayError) -> DeploymentInfo {
        let kindName = draft.kind.rawValue, at = draft.startedAt
        var d = try store.insertAwaiting(draft, detail: detail) { DeployLog.name(kind: kindName, id: $0, at: at, in: logs) }
        d = try store.transition(d.id, to: .awaitingApproval, actor: holder, detail: "awaiting \(required) approval(s): slipway approve \(d.id)")
        DeployLog(path: d.logFile).write("[awaiting_approval] \(required) approval(s) needed from people other than \(d.actor)")
        try store.audit(by, action: "deploy", target: "\(d.environment)/\(d.version)", outcome: "awaiting_approval", detail: "deployment \(d.id)")
        return d
    }

    public func status(_ id: Int64) throws(SlipwayError) -> ApprovalStatus {
        guard let d = try store.deployment(id) else { throw .notFound("no deployment \(id); slipway history lists them") }
        let required = config.environments[d.environment]?.governance.approvals?.required ?? 0
        let all = try store.approvals(deployment: id)
        return ApprovalStatus(deployment: d, required: required, approvals: all, counting: try counting(d, all).count)
    }

    private func counting(_ d: DeploymentInfo, _ all: [ApprovalInfo]) throws(SlipwayError) -> [ApprovalInfo] {
        guard let settings = config.environments[d.environment]?.governance.approvals, let digest = releases.info(d.version)?.digest else { return [] }
        return ApprovalInfo.counting(all, requester: d.actor, digest: digest, now: Date(), expireAfter: settings.expireAfter)
    }

    /// `slipway approve|reject ID`: the requester never decides their own; a reject ends the request.
    func decide<S: DeploymentSteps>(_ request: ApprovalRequest, by: Principal, on steps: isolated S) async throws(SlipwayError) -> ApprovalStatus {
        guard let d = try store.deployment(request.deploymentId) else { throw .notFound("no deployment \(request.deploymentId); slipway history lists them") }
        guard d.state == .awaitingApproval else { throw .usage("deployment \(d.id) is not awaiting approval (it is \(d.state.rawValue))") }
        guard let settings = config.environments[d.environment]?.governance.approvals else {
            throw .usage("environment '\(d.environment)' no longer requires approvals; the request stays as it is")
        }
        let target = "\(d.environment)/\(d.version)"
        guard by.name != d.actor else {
            try store.audit(by, action: "deploy.\(request.decision)", target: target, outcome: "refused", detail: "deployment \(d.id): the requester's own")
            throw .policy("\(by.name) requested deployment \(d.id) and cannot \(request.decision) it; ask someone else")
        }
        guard settings.roles.contains(where: { by.may($0) }) else {
            try store.audit(by, action: "deploy.\(request.decision)", target: target, outcome: "refused", detail: "deployment \(d.id): role")
            throw .policy("\(by.name) (\(by.roles.map(\.rawValue).joined(separator: ", "))) may not decide on deploys to \(d.environment): "
                          + "it needs \(settings.roles.map(\.rawValue).joined(separator: " or "))")
        }
        guard request.decision == "approve" || request.decision == "reject" else { throw .usage("decision: expected approve or reject") }
        if request.decision == "reject", (request.comment ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw .usage("reject needs --comment: say why")
        }
        let digest = releases.info(d.version)?.digest ?? ""
        try store.addApproval(ApprovalInfo(deploymentId: d.id, user: by.name, decision: request.decision, comment: request.comment, time: Date(), digest: digest))
        try store.audit(by, action: "deploy.\(request.decision)", target: target, outcome: "ok", detail: "deployment \(d.id)" + (request.comment.map { ": \($0)" } ?? ""),
                    before: DeploymentState.awaitingApproval.rawValue, after: request.decision == "reject" ? DeploymentState.failed.rawValue : nil)
        if request.decision == "reject" {
            var rejected = d
            try steps.step(&rejected, .failed, "rejected by \(by.name): \(request.comment ?? "")", message: "rejected by \(by.name): \(request.comment ?? "")",
                     reason: .rejected, log: DeployLog(path: d.logFile))
        } else {
            steps.note(d, "approved by \(by.name)" + (request.comment.map { ": \($0)" } ?? ""), log: DeployLog(path: d.logFile))
            await startIfApproved(d, on: steps)
        }
        return try status(d.id)
    }

    /// Starts an awaiting deploy that has its approvals, if the policy lets it now (else it keeps waiting).
    func startIfApproved<S: DeploymentSteps>(_ d: DeploymentInfo, on steps: isolated S) async {
        guard let fresh = try? store.deployment(d.id), fresh.state == .awaitingApproval,
              let settings = config.environments[d.environment]?.governance.approvals,
              let approved = try? counting(fresh, store.approvals(deployment: d.id)), approved.count >= settings.required,
              let env = config.environments[d.environment] else { return }
        do {
            try context.admit(PolicyRequest(operation: .deploy, environment: env.name, version: d.version, actor: fresh.by))
            let lease = try Lease.acquire(store, environment: env.name, holder: "deploy of \(d.version) by \(d.actor) (approved)", actor: fresh.by,
                                          settings: leaseSettings, logger: logger, deployment: d.id)
            steps.note(fresh, "approved by \(approved.map(\.user).joined(separator: ", ")): starting", log: DeployLog(path: d.logFile))
            if !queue.submit(DeploymentJob(deployment: fresh, config: config, env: env, lease: lease, data: nil)) { lease.release() }
        } catch {
            let reason = "approved, waiting: \(error.message)"
            if (try? store.events(deployment: d.id))?.last?.detail != reason { steps.note(fresh, reason, log: DeployLog(path: d.logFile)) }
        }
    }

    /// `gates`: what approvals a deploy of `version` waits for, and where its requests stand. It never blocks (a
    /// deploy is recorded and waits), so it passes; the reason says what it waits for.
    func gate(_ env: EnvironmentConfig, version: String) throws(SlipwayError) -> GateResult? {
        guard let settings = env.governance.approvals, settings.required > 0 else { return nil }
        let roles = settings.roles.map(\.rawValue).joined(separator: " or ")
        var reason = "a deploy waits for \(settings.required) approval(s) from \(roles), not its requester's"
        for d in try store.awaitingApproval() where d.environment == env.name && d.version == version {
            let counted = try counting(d, store.approvals(deployment: d.id))
            reason += "; deployment \(d.id) has \(counted.count)" + (counted.isEmpty ? "" : " (\(counted.map(\.user).joined(separator: ", ")))")
        }
        return GateResult(rule: "approvals", pass: true, reason: reason, passesAt: nil)
    }

    /// The `approvals` periodic job: approved deploys that could not start yet try again.
    func startApproved<S: DeploymentSteps>(on steps: isolated S) async {
        for d in (try? store.awaitingApproval()) ?? [] { await startIfApproved(d, on: steps) }
    }
}
