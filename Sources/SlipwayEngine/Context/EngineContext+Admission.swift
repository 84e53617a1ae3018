import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension EngineContext {
    /// Re-reads slipway.yml so each operation runs with the file as it is now, for every feature at once.
    /// A bad file changes nothing.
    @discardableResult
    func reloadConfig() async throws(SlipwayError) -> SlipwayConfig {
        let current = config
        let fresh: SlipwayConfig
        do { fresh = try ConfigLoader.load(path: current.file, root: current.rootOverride) } catch { throw error.slipwayError }
        guard fresh.root == current.root else {
            throw .usage("root changed in \(current.file) (\(current.root) → \(fresh.root)); restart the daemon to use a new root")
        }
        configs.replace(with: fresh)
        await supervisor.reloadSecrets(Secrets(root: fresh.root))
        if fresh != current {
            store.record(Event(environment: nil, payload: .config(.init(file: fresh.file, detail: "slipway.yml changed; later operations use it"))),
                         orLog: logger)
        }
        return fresh
    }

    /// Runs the policy checks before a deployment, rollback, scale or restore starts. A refusal is
    /// audited and thrown as a policy error (exit 3); nothing else changes. A window or freeze passed with
    /// `--override-window` is audited with its reason.
    func admit(_ request: PolicyRequest, reason: String? = nil, now: Date = Date()) throws(SlipwayError) {
        let policy = admission.policy
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
        throw SlipwayError(.policy, why.reason, cause: "rule: \(why.rule)" + (why.passesAt.map { ", would pass at \($0.ISO8601Format())" } ?? ""))
    }

    func policyFacts(_ environment: String, version: String?, now: Date) throws(SlipwayError) -> PolicyFacts {
        var facts = PolicyFacts(lock: try store.locks().first { $0.environment == environment }, lockTTL: admission.leaseSettings.ttl, now: now,
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

    /// Takes `environment`'s lock for an operation with no record of its own, runs `body`, releases it.
    /// (`body` is untyped-throwing on purpose: Swift 6.3.1 corrupted the results of generic async functions
    /// whose closures had typed throws; errors come back out as `SlipwayError`.)
    /// `body` runs in the caller's isolation (an actor's operation keeps its actor).
    func withLease<T: Sendable>(isolation: isolated (any Actor)? = #isolation, _ environment: String, holder: String, actor: Principal,
                                _ body: () async throws -> T) async throws(SlipwayError) -> T {
        let (lease, _) = try Lease.acquire(store, environment: environment, holder: holder, actor: actor, settings: admission.leaseSettings,
                                           logger: logger) { _, _ in }
        do { return try await lease.hold(body) } catch let error as SlipwayError { throw error } catch {
            throw SlipwayError(.internal, "the operation on '\(environment)' failed", cause: error)
        }
    }
}
