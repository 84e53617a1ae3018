import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayRuntime

/// Activation and revert: the app's own daemon deploys through its health gate; this records the epoch and what
/// the fleet deployment replaced before asking it.
extension HostApps {
    func activate(app: String, _ r: HostActivateRequest, deadline: Duration) async throws(SlipwayError) -> HostActivation {
        try Self.validApp(app)
        try fence(app: app, environment: r.environment, epoch: r.epoch)
        let client = try await daemon(app)
        // An earlier controller's activation may still run here (a killed controller's, whose lock in the shared state
        // went with it at once), or the host's own watch may be rolling back: `settle` lets it end, then sees what serves.
        return try await settle(client, app: app, environment: r.environment, epoch: r.epoch, deadline: deadline) { now throws(SlipwayError) in
            // The first answer stays: another request may have recorded this deployment meanwhile, or an earlier look.
            var next = ledger
            next.remember(app: app, environment: r.environment, deployment: r.deployment, previous: now)
            try save(next)
            let previous = ledger.replaced(app: app, environment: r.environment, deployment: r.deployment).flatMap { $0.isEmpty ? nil : $0 }
            if now == r.version {
                return .done(HostActivation(succeeded: true, current: r.version, previous: previous, hostDeployment: nil, message: "\(r.version) serves already"))
            }
            var request = DeployRequest(version: r.version, environment: r.environment, strategy: nil, kind: r.kind ?? .deploy, actor: r.actor)
            request.reason = "fleet deployment \(r.deployment)"
            request.force = true
            request.skipData = r.skipData
            request.withData = r.withData
            request.backupId = r.backupId
            return .deploy(request, previous: previous)
        }
    }

    /// Puts back what `deployment` replaced here: nothing to do when it never ran here or never switched.
    func revert(app: String, _ r: HostRevertRequest, deadline: Duration) async throws(SlipwayError) -> HostActivation {
        try Self.validApp(app)
        try fence(app: app, environment: r.environment, epoch: r.epoch)
        guard let replaced = ledger.replaced(app: app, environment: r.environment, deployment: r.deployment) else {
            return HostActivation(succeeded: true, current: nil, previous: nil, hostDeployment: nil, message: "deployment \(r.deployment) never ran here")
        }
        let client = try await daemon(app)
        return try await settle(client, app: app, environment: r.environment, epoch: r.epoch, deadline: deadline) { now throws(SlipwayError) in
            if replaced.isEmpty {
                // Nothing served before: stop the environment, so the fleet serves nothing new anywhere.
                return now == nil ? .done(HostActivation(succeeded: true, current: nil, previous: nil, hostDeployment: nil, message: "nothing serves"))
                    : .down(DownRequest(environment: r.environment, all: false, actor: r.actor))
            }
            if now == replaced {
                return .done(HostActivation(succeeded: true, current: now, previous: replaced, hostDeployment: nil, message: "\(replaced) serves already"))
            }
            var request = DeployRequest(version: replaced, environment: r.environment, strategy: nil, kind: .rollback, actor: r.actor)
            request.reason = "fleet deployment \(r.deployment) reverted"
            request.force = true
            return .deploy(request, previous: replaced)
        }
    }

    /// What `settle` does once the environment is free and it has seen what serves.
    enum Step {
        case done(HostActivation)
        case deploy(DeployRequest, previous: String?)
        case down(DownRequest)
    }

    /// Waits until no operation holds the environment's lock, looks at what serves, and does what `decide` says (the
    /// epoch checked again first: another controller may have taken over meanwhile). A deployment refused by policy
    /// (most likely another operation took the lock between the look and the request, like the host's own watch
    /// rolling back) is looked at again once the lock is free; a refusal that stays (a freeze) ends it after a few looks.
    func settle(_ client: DaemonClient, app: String, environment: String, epoch: Int64, deadline: Duration,
                decide: (String?) throws(SlipwayError) -> Step) async throws(SlipwayError) -> HostActivation {
        let end = ContinuousClock.now + deadline
        var attempts = 0
        while true {
            try await Self.waitUnlocked(client, environment: environment, within: end - ContinuousClock.now)
            let now = try await Self.current(client, environment: environment)?.currentRelease
            // Re-read after the awaits: the ledger and the epoch may have changed meanwhile.
            let step = try decide(now)
            if case .done(let answer) = step { return answer }
            try fence(app: app, environment: environment, epoch: epoch)
            switch step {
            case .done(let answer): return answer
            case .down(let request):
                let _: [String: String] = try await client.post("/v1/down", request)
                return HostActivation(succeeded: true, current: nil, previous: nil, hostDeployment: nil, message: "stopped (nothing served before)")
            case .deploy(let request, let previous):
                do {
                    return try await run(client, request, previous: previous, deadline: end - ContinuousClock.now)
                } catch where error.code == .policy {
                    attempts += 1
                    guard attempts < 4, ContinuousClock.now < end else { throw error }
                }
            }
        }
    }

    /// Waits (at most `within`) until the environment's lock on the app's daemon is free, or, with `deployment`, no
    /// longer held by that deployment.
    static func waitUnlocked(_ client: DaemonClient, environment: String, by deployment: Int64? = nil, within: Duration) async throws(SlipwayError) {
        let end = ContinuousClock.now + within
        while ContinuousClock.now < end {
            let locks: [LockInfo] = try await client.get("/v1/locks")
            if !locks.contains(where: { $0.environment == environment && (deployment == nil || $0.deploymentId == deployment) }) { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Starts the deployment on the app's daemon and waits for its end (at most `deadline`).
    func run(_ client: DaemonClient, _ request: DeployRequest, previous: String?, deadline: Duration) async throws(SlipwayError) -> HostActivation {
        let started: DeploymentInfo = try await client.post("/v1/deployments", request)
        let end = ContinuousClock.now + deadline
        var info = started
        while !info.state.isTerminal {
            guard ContinuousClock.now < end else {
                return HostActivation(succeeded: false, current: nil, previous: previous, hostDeployment: started.id,
                                      message: "deployment \(started.id) did not end within \(DurationParsing.format(deadline)) (now \(info.state.rawValue))")
            }
            try? await Task.sleep(for: .milliseconds(100))
            info = try await client.get("/v1/deployments/\(started.id)?after=\(Int64.max)", as: DeploymentProgress.self).deployment
        }
        // Its last steps (the watch's start, its audit entry) run after its state reads terminal, still holding the
        // environment's lock: wait for the lock too, so a revert asked right after is not refused as locked.
        try await Self.waitUnlocked(client, environment: info.environment, by: info.id, within: .seconds(30))
        let current = try await Self.current(client, environment: request.environment ?? "")?.currentRelease
        return HostActivation(succeeded: info.state == .succeeded, current: current, previous: previous, hostDeployment: info.id,
                              message: info.state == .succeeded ? "\(info.version) serves" : (info.message ?? info.state.rawValue))
    }

    func status() async -> HostStatus {
        let apps = ((try? FileManager.default.contentsOfDirectory(atPath: root + "/apps")) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        var out: [HostStatus.Environment] = []
        for app in apps {
            let client = DaemonClient(socket: socket(app))
            let releases = ReleaseStore(directory: stateRoot(app) + "/releases").list().map(\.version)
            guard let all = try? await client.get("/v1/status", as: [EnvironmentStatus].self) else {
                for (key, epoch) in ledger.epochs where key.hasPrefix(app + "/") {
                    out.append(.init(app: app, name: String(key.dropFirst(app.count + 1)), current: nil, healthy: false, epoch: epoch, releases: releases))
                }
                continue
            }
            for e in all {
                let healthy = e.currentRelease.map { current in e.instances.contains { $0.release == current && $0.ready } } ?? false
                var env = HostStatus.Environment(app: app, name: e.name, current: e.currentRelease, previous: e.previousRelease, healthy: healthy,
                                                 epoch: ledger.epoch(app: app, environment: e.name), releases: releases)
                if let m = e.maintenance, m.mode == .paused { env.fleetHold = HostStatus.fleetHold(in: m.html) }
                out.append(env)
            }
        }
        return HostStatus(hostname: ProcessInfo.processInfo.hostName, environments: out)
    }
}
