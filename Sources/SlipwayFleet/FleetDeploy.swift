import Foundation
import SlipwayCore

/// One deploy across a fleet: every host checked (preflight), then every host staged (config snapshot and the
/// release, checked against its digest there) before any is activated, then batches activated through each host's
/// own health gate. A failed host (an unreachable one too) stops the deploy: no new batch starts, and with
/// `on_failure: rollback` every host this deploy switched is reverted, so the fleet ends uniform.
public struct FleetDeploy: Sendable {
    public var app: String
    public var environment: String
    public var version: String
    public var digest: String
    public var settings: FleetSettings
    public var maxParallel: Int
    public var actor: String
    /// This deploy's id on every host (a revert finds what it replaced there).
    public var deployment: String
    public var log: @Sendable (String) -> Void

    public init(app: String, environment: String, version: String, digest: String, settings: FleetSettings, maxParallel: Int, actor: String,
                deployment: String, log: @escaping @Sendable (String) -> Void) {
        self.app = app
        self.environment = environment
        self.version = version
        self.digest = digest
        self.settings = settings
        self.maxParallel = maxParallel
        self.actor = actor
        self.deployment = deployment
        self.log = log
    }

    public func run(hosts: [any FleetHost], config yaml: String, artifact: [UInt8]) async -> FleetOutcome {
        var outcome = FleetOutcome(deployment: deployment, environment: environment, version: version, state: .failed, phase: .preflight, epoch: 0,
                                   hosts: hosts.map { FleetOutcome.Host(host: $0.name, state: .untouched, current: nil, message: "") })
        defer { }
        // Preflight: every host answers, or nothing changes anywhere.
        let checked = await concurrently(hosts, limit: maxParallel) { host async -> Result<HostStatus, SlipwayError> in
            do throws(SlipwayError) {
                try await host.connect()
                return .success(try await host.status())
            } catch { return .failure(error) }
        }
        var statuses: [HostStatus] = []
        for (i, r) in checked.enumerated() {
            switch r {
            case .success(let s):
                statuses.append(s)
                outcome.hosts[i].current = s.environments.first { $0.app == app && $0.name == environment }?.current
            case .failure(let e):
                outcome.hosts[i].state = .unreachable
                outcome.hosts[i].message = e.message
            }
        }
        defer { Task { await Self.disconnect(hosts) } }
        guard statuses.count == hosts.count else {
            outcome.message = "\(hosts.count - statuses.count) of \(hosts.count) host(s) unreachable; nothing changed"
            log(outcome.message)
            return outcome
        }
        outcome.epoch = FleetPlan.epoch(after: statuses, app: app, environment: environment)
        log("preflight: \(hosts.count) host(s) reachable; epoch \(outcome.epoch)")

        // Stage everywhere before activating anywhere.
        outcome.phase = .stage
        let staged = await concurrently(hosts, limit: maxParallel) { [app, version, digest] host async -> SlipwayError? in
            do throws(SlipwayError) {
                try await host.stageConfig(app: app, yaml: yaml)
                _ = try await host.stage(app: app, version: version, digest: digest, artifact: artifact)
                return nil
            } catch { return error }
        }
        for (i, e) in staged.enumerated() {
            if let e { outcome.hosts[i].state = .failed; outcome.hosts[i].message = e.message } else { outcome.hosts[i].state = .staged }
        }
        guard staged.allSatisfy({ $0 == nil }) else {
            outcome.message = "staging failed on \(staged.compactMap { $0 }.count) host(s); nothing was activated"
            log(outcome.message)
            return outcome
        }
        log("staged \(version) on \(hosts.count) host(s)")

        outcome.phase = .activate
        var switched: [Int] = []
        for (n, batch) in FleetPlan.batches(hosts: hosts.count, settings).enumerated() {
            log("batch \(n + 1): activating \(batch.map { hosts[$0].name }.joined(separator: ", "))")
            let request = HostActivateRequest(environment: environment, version: version, deployment: deployment, epoch: outcome.epoch, actor: actor)
            let results = await concurrently(batch, limit: maxParallel) { [app, settings] i async -> Result<HostActivation, SlipwayError> in
                do throws(SlipwayError) { return .success(try await hosts[i].activate(app: app, request, deadline: settings.healthyDeadline)) }
                catch { return .failure(error) }
            }
            var failed = false
            for (i, r) in zip(batch, results) {
                switched.append(i)
                switch r {
                case .success(let a) where a.succeeded:
                    outcome.hosts[i].state = .activated
                    outcome.hosts[i].current = a.current
                    outcome.hosts[i].message = a.message
                case .success(let a):
                    failed = true
                    outcome.hosts[i].state = .failed
                    outcome.hosts[i].current = a.current
                    outcome.hosts[i].message = a.message
                case .failure(let e):
                    failed = true
                    outcome.hosts[i].state = .failed
                    outcome.hosts[i].current = nil
                    outcome.hosts[i].message = e.message
                }
                log("  \(hosts[i].name): \(outcome.hosts[i].state.rawValue): \(outcome.hosts[i].message)")
            }
            if failed {
                let bad = batch.filter { outcome.hosts[$0].state == .failed }.map { hosts[$0].name }
                guard settings.onFailure == .rollback else {
                    outcome.state = .partial
                    outcome.message = "\(bad.joined(separator: ", ")) failed; halted with the fleet partial (on_failure: halt): roll back or deploy again"
                    log(outcome.message)
                    return outcome
                }
                log("\(bad.joined(separator: ", ")) failed; reverting \(switched.count) host(s)")
                await revert(hosts, switched, &outcome)
                outcome.state = outcome.hosts.contains { $0.state == .revertFailed } ? .partial : .rolledBack
                outcome.message = "\(bad.joined(separator: ", ")) failed; " + (outcome.state == .rolledBack ? "every switched host reverted" : "a revert failed: the fleet is partial")
                return outcome
            }
        }
        outcome.state = .succeeded
        outcome.message = "\(version) serves on \(hosts.count) host(s)"
        log(outcome.message)
        return outcome
    }

    func revert(_ hosts: [any FleetHost], _ indices: [Int], _ outcome: inout FleetOutcome) async {
        let request = HostRevertRequest(environment: environment, deployment: deployment, epoch: outcome.epoch, actor: actor)
        let results = await concurrently(indices, limit: maxParallel) { [app, settings] i async -> Result<HostActivation, SlipwayError> in
            do throws(SlipwayError) { return .success(try await hosts[i].revert(app: app, request, deadline: settings.healthyDeadline)) }
            catch { return .failure(error) }
        }
        for (i, r) in zip(indices, results) {
            switch r {
            case .success(let a) where a.succeeded:
                outcome.hosts[i].state = .reverted
                outcome.hosts[i].current = a.current
            case .success(let a):
                outcome.hosts[i].state = .revertFailed
                outcome.hosts[i].message += "; revert: " + a.message
            case .failure(let e):
                outcome.hosts[i].state = .revertFailed
                outcome.hosts[i].message += "; revert: " + e.message
            }
            log("  \(hosts[i].name): \(outcome.hosts[i].state.rawValue)\(outcome.hosts[i].current.map { " (\($0) serves)" } ?? "")")
        }
    }

    static func disconnect(_ hosts: [any FleetHost]) async {
        await withTaskGroup(of: Void.self) { group in
            for h in hosts { group.addTask { await h.disconnect() } }
        }
    }
}

/// What a fleet deploy did, per host (`slipway deploy --json` on a fleet environment).
public struct FleetOutcome: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case succeeded, failed, rolledBack = "rolled_back", partial }
    public enum Phase: String, Codable, Sendable { case preflight, stage, activate }
    public struct Host: Codable, Sendable, Equatable {
        public enum State: String, Codable, Sendable {
            case untouched, unreachable, staged, activated, failed, reverted
            case revertFailed = "revert_failed"
        }
        public var host: String
        public var state: State
        public var current: String?
        public var message: String
    }
    public var deployment: String
    public var environment: String
    public var version: String
    public var state: State
    /// Where it ended: before anything changed (preflight, stage) or while activating.
    public var phase: Phase
    public var epoch: Int64
    public var hosts: [Host]
    public var message = ""
}
