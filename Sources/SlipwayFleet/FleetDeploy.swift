import Foundation
import SlipwayCore

/// One deploy across a fleet: every host checked (preflight), the environment's lock taken (in the shared state, or
/// as a lease on its first host; its epoch fences every later call), then every host staged (config snapshot, an image
/// release's image, and the release, each checked against its digest there) before any is activated, then batches activated through each host's own health gate. A
/// failed host (an unreachable one too) stops the deploy: no new batch starts, and with `on_failure: rollback`
/// every host this deploy switched is reverted, so the fleet ends uniform.
public struct FleetDeploy: Sendable {
    public var app: String
    public var environment: String
    public var version: String
    public var digest: String
    public var settings: FleetSettings
    public var maxParallel: Int
    public var actor: String
    /// This deploy's id on every host (a revert finds what it replaced there; `resume` runs it again).
    public var deployment: String
    /// Who holds the lease (the operator, this machine, this process).
    public var holder: String
    /// How long to wait for another controller's lease (zero: refuse at once, exit 3).
    public var lockWait: Duration = .zero
    /// Deploy to the hosts that answer and record the others as skipped (drift), instead of changing nothing.
    public var excludeUnreachable = false
    /// `slipway rollback` on a fleet: the release is on every host already (checked in preflight), nothing is staged,
    /// and each host records a rollback.
    public var rollbackTo = false
    /// What a fleet canary is judged by (the environment's `analysis`, else `error_rate > baseline + 2%`) and how often
    /// the hosts are read.
    public var analysis = FleetDeploy.defaultCanaryAnalysis
    /// `fleet.data: once`: the first host of the first batch runs the data steps (backup, migrations), alone, before any
    /// other host switches; every other activation skips them.
    public var dataOnce = false
    public var canaryInterval: Duration = .seconds(1)
    /// `analysis.providers` read once per interval (Prometheus queries, web checks), judged beside the hosts' figures.
    public var readProviders: (@Sendable () async -> [ProviderReading])?
    /// Runs after a deploy's activations (under the lock, on the hosts' connections, before they close): a fleet's
    /// certificate is installed there without a second ssh connection per host.
    public var afterActivation: (@Sendable ([any FleetHost], FleetOutcome) async -> Void)?
    /// `rollback --with-data` (with `rollbackTo`): the backup the operator confirmed on the data host (`fleet.data: once`;
    /// nil with `each_host`, where each host restores its own).
    public var dataRollback: DataRollback?
    public struct DataRollback: Sendable, Equatable {
        public var backupId: String?
        public var eachHost: Bool
        public init(backupId: String?, eachHost: Bool) {
            self.backupId = backupId
            self.eachHost = eachHost
        }
    }
    /// `state.postgres`: the lock is a session advisory lock there and the epoch comes from there (nil: the lease on
    /// the first host).
    public var shared: SharedState?
    /// An image release's image (`runtime: podman | docker`): saved once here, loaded on every host whose runtime lacks
    /// it and checked there against its id before the release is staged.
    public var image: FleetImage?
    public var log: @Sendable (String) -> Void

    public init(app: String, environment: String, version: String, digest: String, settings: FleetSettings, maxParallel: Int, actor: String,
                deployment: String, holder: String = "", log: @escaping @Sendable (String) -> Void) {
        self.app = app
        self.environment = environment
        self.version = version
        self.digest = digest
        self.settings = settings
        self.maxParallel = maxParallel
        self.actor = actor
        self.deployment = deployment
        self.holder = holder.isEmpty ? actor + " " + deployment : holder
        self.log = log
    }

    /// What runs under the lease: a deploy (stage, then activate) or `deploy rollback ID` (a revert everywhere).
    enum Work {
        case deploy(config: String, artifact: [UInt8])
        case revertAll
    }

    /// `leaseHost`: the environment's first host (nil: `hosts[0]`), which keeps the lease even when this deploy
    /// targets other hosts. Every connection is closed before it returns.
    public func run(hosts: [any FleetHost], leaseHost: (any FleetHost)? = nil, config yaml: String, artifact: [UInt8]) async -> FleetOutcome {
        await perform(.deploy(config: yaml, artifact: artifact), hosts: hosts, leaseHost: leaseHost)
    }

    /// Preflight, then `work` under the lease (renewed while it runs, given back after), then every connection closed.
    func perform(_ work: Work, hosts: [any FleetHost], leaseHost: (any FleetHost)?) async -> FleetOutcome {
        var outcome = FleetOutcome(deployment: deployment, environment: environment, version: version, state: .failed, phase: .preflight, epoch: 0,
                                   hosts: hosts.map { FleetOutcome.Host(host: $0.name, state: .untouched, current: nil, message: "") })
        // A lease host outside the targets is connected on its own.
        let extra = leaseHost.flatMap { l in hosts.contains { $0.name == l.name } ? nil : l }
        let keeper = extra ?? leaseHost ?? hosts[0]
        var seen: [Int: HostStatus] = [:]
        if let targets = await preflight(hosts, leaseHost: extra, &outcome, seen: &seen), let heartbeat = await claim(keeper, &outcome) {
            await liftStrandedHolds(hosts, seen)
            switch work {
            case .deploy(let yaml, let artifact):
                await stageAndActivate(hosts, targets, yaml: yaml, artifact: artifact, lease: heartbeat, &outcome)
                if let afterActivation, outcome.phase == .activate || outcome.phase == .revert { await afterActivation(hosts, outcome) }
            case .revertAll: await revertAll(hosts, targets, &outcome)
            }
            heartbeat.cancel()
            await unclaim(keeper)
        }
        await Self.disconnect(hosts + (extra.map { [$0] } ?? []))
        return outcome
    }

    /// Connects to every host and reads its status; nil when the deploy must stop (nothing changed). The indices
    /// of the hosts to deploy to (every one, or, with `excludeUnreachable`, the ones that answered).
    func preflight(_ hosts: [any FleetHost], leaseHost: (any FleetHost)?, _ outcome: inout FleetOutcome, seen: inout [Int: HostStatus]) async -> [Int]? {
        let checked = await concurrently(hosts, limit: maxParallel) { host async -> Result<HostStatus, SlipwayError> in
            do throws(SlipwayError) {
                try await host.connect()
                return .success(try await host.status())
            } catch { return .failure(error) }
        }
        var statuses: [HostStatus] = []
        var targets: [Int] = []
        for (i, r) in checked.enumerated() {
            switch r {
            case .success(let s):
                statuses.append(s)
                seen[i] = s
                targets.append(i)
                outcome.hosts[i].current = s.environments.first { $0.app == app && $0.name == environment }?.current
            case .failure(let e):
                outcome.hosts[i].state = excludeUnreachable ? .skipped : .unreachable
                outcome.hosts[i].message = e.message
            }
        }
        if let leaseHost {
            do throws(SlipwayError) { try await leaseHost.connect() } catch {
                outcome.message = "the lease host \(leaseHost.name) is unreachable (\(error.message)); nothing changed"
                log(outcome.message)
                return nil
            }
        }
        let missing = hosts.count - targets.count
        guard missing == 0 || excludeUnreachable && !targets.isEmpty else {
            outcome.message = "\(missing) of \(hosts.count) host(s) unreachable; nothing changed" + (excludeUnreachable ? "" : " (--exclude-unreachable deploys to the others)")
            log(outcome.message)
            return nil
        }
        if rollbackTo {
            let missing = targets.filter { i in !(checked[i].status?.environments.first { $0.app == app && $0.name == environment }?.releases.contains(version) ?? false) }
            guard missing.isEmpty else {
                for i in missing { outcome.hosts[i].message = "\(version) is not on this host" }
                outcome.message = "\(version) is not on \(missing.map { hosts[$0].name }.joined(separator: ", ")); nothing changed (deploy it instead)"
                log(outcome.message)
                return nil
            }
        }
        outcome.epoch = FleetPlan.epoch(after: statuses, app: app, environment: environment)
        log("preflight: \(targets.count) host(s) reachable" + (missing > 0 ? ", \(missing) skipped (drift)" : ""))
        return targets
    }

    func stageAndActivate(_ hosts: [any FleetHost], _ targets: [Int], yaml: String, artifact: [UInt8], lease: LeaseKeeper, _ outcome: inout FleetOutcome) async {
        // Stage everywhere before activating anywhere.
        outcome.phase = .stage
        let staged = await concurrently(targets, limit: maxParallel) { [app, version, digest, rollbackTo, image] i async -> SlipwayError? in
            guard !rollbackTo else { return nil }
            do throws(SlipwayError) {
                try await hosts[i].stageConfig(app: app, yaml: yaml)
                if let image { try await hosts[i].stageImage(app: app, image) }
                _ = try await hosts[i].stage(app: app, version: version, digest: digest, artifact: artifact)
                return nil
            } catch { return error }
        }
        for (i, e) in zip(targets, staged) {
            if let e { outcome.hosts[i].state = .failed; outcome.hosts[i].message = e.message } else { outcome.hosts[i].state = .staged }
        }
        guard staged.allSatisfy({ $0 == nil }) else {
            outcome.message = "staging failed on \(staged.compactMap { $0 }.count) host(s); nothing was activated"
            log(outcome.message)
            return
        }
        log("staged \(version) on \(targets.count) host(s); epoch \(outcome.epoch)")
        if let data = dataRollback, rollbackTo {
            await rollbackWithData(hosts, targets, data, &outcome)
            return
        }

        outcome.phase = .activate
        var switched: [Int] = []
        let batches = FleetPlan.batches(hosts: targets.count, settings).map { $0.map { targets[$0] } }
        let judging = settings.strategy == .canary && batches.count > 1
        let before = judging ? await samples(hosts, targets) : [:]
        let started = ContinuousClock.now
        var tolerated: [Int] = []
        for (n, batch) in batches.enumerated() {
            if n > 0, settings.pause > .zero {
                log("pause: \(DurationParsing.format(settings.pause)) before batch \(n + 1)")
                try? await Task.sleep(for: settings.pause)
            }
            if let limit = settings.progressDeadline, ContinuousClock.now - started >= limit, n > 0 {
                await stop("progress_deadline \(DurationParsing.format(limit)) passed before batch \(n + 1)", hosts, switched: switched, &outcome)
                return
            }
            if lease.lost {
                outcome.state = .partial
                outcome.message = "the lock was lost (another controller may be acting); stopped before batch \(n + 1)"
                log(outcome.message)
                return
            }
            log("batch \(n + 1): activating \(batch.map { hosts[$0].name }.joined(separator: ", "))")
            let (activated, results) = await activate(batch, first: n == 0, hosts: hosts, epoch: outcome.epoch)
            switched += activated
            let (failed, unchanged) = record(activated, results, hosts: hosts, &outcome)
            // A judged canary batch tolerates no failure; another batch up to `max_failed` (those hosts keep what they served).
            let allowed = judging && n == 0 ? 0 : settings.maxFailed.tolerated(of: batch.count)
            let bad = failed.map { hosts[$0].name }.joined(separator: ", ")
            if failed.count > allowed {
                await stop("\(bad) failed", hosts, switched: switched, &outcome)
                return
            }
            if !failed.isEmpty {
                tolerated += failed
                log("  \(bad) failed, within max_failed \(settings.maxFailed) of batch \(n + 1); going on")
            }
            if judging, n == 0, unchanged == batch.count {
                log("canary: \(batch.map { hosts[$0].name }.joined(separator: ", ")) served \(version) already (judged when it switched); promoting")
            } else if judging, n == 0 {
                let others = batches.dropFirst().flatMap { $0 }
                // What each other host serves: its traffic on that release is the baseline.
                let releases = Dictionary(uniqueKeysWithValues: others.compactMap { i in outcome.hosts[i].current.map { (i, $0) } })
                guard !releases.isEmpty else {
                    log("canary: no other host serves anything yet, so there is nothing to judge against; promoting")
                    continue
                }
                log("canary: judging \(batch.map { hosts[$0].name }.joined(separator: ", ")) for \(DurationParsing.format(settings.canaryAnalysis)) against the other hosts' traffic")
                if let why = await judgeCanary(hosts, canary: batch, others: others, releases: releases, base: before) {
                    // The canary hosts go back whatever on_failure says: judging them was the point.
                    await stop("canary failed: " + why, hosts, switched: switched, halting: false, &outcome)
                    return
                }
                if settings.canaryPromote == .manual {
                    outcome.state = .awaitingPromotion
                    outcome.message = "canary passed on \(batch.map { hosts[$0].name }.joined(separator: ", ")); the other \(others.count) host(s) wait: "
                        + "promote with slipway deploy resume \(deployment), or undo with slipway deploy rollback \(deployment)"
                    log(outcome.message)
                    return
                }
                log("canary passed; promoting to the other \(others.count) host(s)")
            }
        }
        let skipped = outcome.hosts.filter { $0.state == .skipped }.map(\.host)
        let drift = skipped.isEmpty ? "" : "; skipped (drift): \(skipped.joined(separator: ", "))"
        if tolerated.isEmpty {
            outcome.state = .succeeded
            outcome.message = "\(version) serves on \(targets.count) host(s)" + drift
        } else {
            outcome.state = .partial
            outcome.message = "\(version) serves on \(targets.count - tolerated.count) of \(targets.count) host(s); failed within max_failed: "
                + tolerated.map { hosts[$0].name }.joined(separator: ", ") + " (deploy resume \(deployment) tries them again)" + drift
        }
        log(outcome.message)
    }

    /// Ends the deploy after `why` (a failed host, a passed deadline, a failed canary): halted with the fleet partial
    /// (`on_failure: halt`, when `halting`), or every host in `switched` that still answers reverted. The unknown ones
    /// are not asked (they did not answer); `fleet status` shows them once they do.
    func stop(_ why: String, _ hosts: [any FleetHost], switched: [Int], halting: Bool = true, _ outcome: inout FleetOutcome) async {
        guard !halting || settings.onFailure == .rollback else {
            outcome.state = .partial
            outcome.message = why + "; halted with the fleet partial (on_failure: halt): deploy rollback \(deployment), or deploy resume \(deployment)"
            log(outcome.message)
            return
        }
        let reachable = switched.filter { outcome.hosts[$0].state != .unknown }
        log(why + "; reverting \(reachable.count) host(s)")
        await revert(hosts, reachable, epoch: outcome.epoch, &outcome)
        outcome.state = outcome.hosts.contains { $0.state == .revertFailed } ? .partial : .rolledBack
        let unknown = outcome.hosts.filter { $0.state == .unknown }.map(\.host)
        outcome.message = why + "; " + (outcome.state == .rolledBack ? "every switched host that answers reverted" : "a revert failed: the fleet is partial")
            + (unknown.isEmpty ? "" : "; unknown: \(unknown.joined(separator: ", ")) (slipway fleet status once it answers; deploy again to converge)")
        log(outcome.message)
    }

    static func disconnect(_ hosts: [any FleetHost]) async {
        await withTaskGroup(of: Void.self) { group in
            for h in hosts { group.addTask { await h.disconnect() } }
        }
    }
}

extension Result where Success == HostStatus {
    var status: HostStatus? { if case .success(let s) = self { s } else { nil } }
}
