import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct Deploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Deploy a release and wait for the outcome (exit 1 if it was refused or rolled back, 3 if the environment is locked).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Argument(help: "The release version (a fleet environment also takes: resume ID, rollback ID)") var version: String
    @Argument(help: "With resume or rollback: the fleet deployment's id (fd-…)") var fleetDeployment: String?
    @Option(help: "recreate | blue-green | rolling | canary (default: the environment's strategy)") var strategy: DeployStrategy?
    @Option(help: "A fleet environment: wait this long for another controller's lease (e.g. 5m; default: refuse at once, exit 3)") var lockWait: String?
    @Option(help: "A fleet environment: deploy to these of its hosts only (comma-separated)") var hosts: String?
    @Flag(help: "A fleet environment: deploy to the hosts that answer and record the others as drift") var excludeUnreachable = false
    @Option(help: "A fleet environment with runtime: podman | docker: make the release from this image (pinned to its id here, sent to the hosts that lack it)") var image: String?
    @Option(help: "A fleet environment with runtime: podman | docker: make the release from this docker save / podman save archive") var imageArchive: String?
    @Flag(help: "Deploy a release the post-deploy watch or canary analysis rolled back all the same") var force = false
    @Flag(help: "After the switch, stay until the post-deploy watch ends, printing its figures; exit 1 if it rolls back") var watch = false
    @Flag(help: "Deploy outside the environment's windows or inside a freeze (needs --reason; audited)") var overrideWindow = false
    @Option(help: "Why (with --override-window: recorded in the audit log)") var reason: String?
    @Flag(help: "Print the final deployment as JSON (progress goes to stderr)") var json = false

    func run() async throws {
        if let (cfg, env) = FleetCommand.environment(global, envOption.env) {
            var o = FleetCommand.Options(version: version, json: json, excludeUnreachable: excludeUnreachable)
            if image != nil && imageArchive != nil { throw ValidationError("give one of --image or --image-archive") }
            o.image = image
            o.imageArchive = imageArchive.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
            if let lockWait {
                guard let d = DurationParsing.parse(lockWait) else { throw ValidationError("--lock-wait: expected a duration like 30s or 5m, got '\(lockWait)'") }
                o.lockWait = d
            }
            o.only = hosts.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? []
            switch (version, fleetDeployment) {
            case ("resume", let id?): o.resume = id
            case ("rollback", let id?): o.rollback = id
            case (_, let extra?): throw ValidationError("unexpected argument '\(extra)' (only deploy resume ID or deploy rollback ID take two)")
            default: break
            }
            try await FleetCommand.deploy(cfg, env, o)
            return
        }
        if fleetDeployment != nil || lockWait != nil || hosts != nil || excludeUnreachable {
            throw ValidationError("resume/rollback IDs, --lock-wait, --hosts and --exclude-unreachable are for an environment with hosts:")
        }
        if image != nil || imageArchive != nil {
            if global.serverAddress == nil { _ = try global.load() }  // a config that does not load says why first
            throw ValidationError("--image and --image-archive are for an environment with hosts:; on one host make the release first: slipway release create \(version) --image REF")
        }
        let client = try global.client()
        var request = DeployRequest(version: version, environment: envOption.env, strategy: strategy, kind: .deploy, actor: DaemonClient.actor)
        request.force = force ? true : nil
        request.overrideWindow = overrideWindow ? true : nil
        request.reason = reason
        let d: DeploymentInfo = try await client.post("/v1/deployments", request)
        try await DeployFollower.follow(client: client, deployment: d, json: json)
        if watch { try await DeployFollower.watch(client: client, deployment: d, json: json) }
    }
}

extension DeployStrategy: ExpressibleByArgument {}

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Roll back to the previous release, or to VERSION, through the same health-gated switch; --with-data also restores the backup taken before VERSION was replaced.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Argument(help: "A retained release (default: the one before the current)") var version: String?
    @Flag(help: "Also restore the data from the backup taken before the deploy that replaced VERSION (shows what is lost, then asks)") var withData = false
    @Flag(help: "With --with-data: do not ask for confirmation") var yes = false
    @Flag(help: "Roll back inside a freeze that holds rollbacks too (rollback_in_freeze: false; needs --reason; audited)") var overrideWindow = false
    @Option(help: "Why (with --override-window: recorded in the audit log)") var reason: String?
    @Flag(help: "Print the final deployment as JSON") var json = false

    @Option(help: "A fleet environment: wait this long for another controller's lease (e.g. 5m)") var lockWait: String?

    func run() async throws {
        if let (cfg, env) = FleetCommand.environment(global, envOption.env) {
            let wait = try lockWait.map { text throws -> Duration in
                guard let d = DurationParsing.parse(text) else { throw ValidationError("--lock-wait: expected a duration like 30s or 5m, got '\(text)'") }
                return d
            } ?? .zero
            try await FleetCommand.rollback(cfg, env, version: version, lockWait: wait, json: json, withData: withData, yes: yes)
            return
        }
        if lockWait != nil { throw ValidationError("--lock-wait is for an environment with hosts:") }
        let client = try global.client()
        var backupId: String?
        if withData {
            var q: [String] = []
            if let e = envOption.env { q.append("env=\(e)") }
            if let v = version { q.append("version=\(v)") }
            let plan: DataRollbackPlan = try await client.get("/v1/rollback/plan" + (q.isEmpty ? "" : "?" + q.joined(separator: "&")))
            DeployFollower.say(Self.describe(plan), json: json)
            if !yes {
                guard isatty(0) != 0 else { throw SlipwayError.usage("rollback --with-data overwrites live data; pass --yes to confirm") }
                print("Roll back code and data? [y/N] ", terminator: "")
                guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { throw SlipwayError.policy("not confirmed; nothing changed") }
            }
            backupId = plan.backup.id
        }
        var request = DeployRequest(version: version, environment: envOption.env, strategy: nil, kind: .rollback, actor: DaemonClient.actor,
                                    withData: withData ? true : nil, backupId: backupId)
        request.overrideWindow = overrideWindow ? true : nil
        request.reason = reason
        let d: DeploymentInfo = try await client.post("/v1/deployments", request)
        try await DeployFollower.follow(client: client, deployment: d, json: json)
    }

    static func describe(_ plan: DataRollbackPlan) -> String {
        let b = plan.backup
        var lines = ["Rolling \(plan.environment) back from \(plan.currentRelease ?? "nothing") to \(plan.version) with data:",
                     "  restores backup \(b.id), taken \(Output.time(b.createdAt)) before the deploy of \(b.beforeDeployOf ?? "?") (\(ByteFormat.bytes(b.size)))",
                     "  writes of the last \(Output.age(plan.ageSeconds)) are lost (a safety backup of the current data is taken first):"]
        for c in plan.changes { lines.append("    \(c.summary)") }
        if let hold = plan.holdLimitMs {
            lines.append("  new requests to \(plan.environment) are held from the start of the restore until the switch "
                         + "(each up to \(hold / 1000)s, then 503 with Retry-After); nothing reads or writes the data meanwhile")
        }
        if let p = plan.pointBefore {
            lines.append("  or, from the continuous archive, the data as it was just before deployment \(p.deploymentId) (\(Output.time(p.time))),")
            lines.append("  keeping the writes between the backup and then: \(p.command) (then slipway rollback \(plan.version))")
        }
        return lines.joined(separator: "\n")
    }
}

enum DeployFollower {
    static func say(_ s: String, json: Bool) {
        if json { FileHandle.standardError.write(Data((s + "\n").utf8)) } else { print(s) }
    }

    static func follow(client: DaemonClient, deployment: DeploymentInfo, json: Bool) async throws {
        var after: Int64 = 0
        var d = deployment
        let kind: String = d.kind.rawValue
        say("\(kind) #\(d.id): \(d.version) → \(d.environment) (\(d.strategy.rawValue)), log \(d.logFile)", json: json)
        while true {
            let p = try await progress(client: client, id: d.id, after: after)
            for e in p.events {
                say("  \(Output.clock(e.time)) [\(e.state.rawValue)] \(e.detail)", json: json)
                after = e.seq
            }
            d = p.deployment
            if d.state.isTerminal { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await awaitLockRelease(client: client, deployment: d)
        if json { Output.json(d) }
        if d.state != .succeeded {
            if let message = d.message, message.contains("\n") { say(message, json: json) }
            let what: String = d.state == .failed ? "failed" : "was rolled back"
            throw SlipwayError(.failed, "\(kind) of \(d.version) to \(d.environment) \(what)")
        }
        if !json, let finished = d.finishedAt {
            let seconds: String = String(format: "%.2f", finished.timeIntervalSince(d.startedAt))
            print("✓ \(d.version) is serving \(d.environment) (\(seconds)s)")
        }
    }

    /// A deployment reads finished before its last steps (a migration's undo, the watch's start, the audit entry)
    /// let go of the environment's lock: waits for that (at most 30 s), so `slipway deploy a && slipway deploy b`
    /// is not refused by the first one's lock.
    static func awaitLockRelease(client: DaemonClient, deployment d: DeploymentInfo) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let locks: [LockInfo] = try await client.get("/v1/locks")
            if !locks.contains(where: { $0.environment == d.environment && $0.deploymentId == d.id }) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func progress(client: DaemonClient, id: Int64, after: Int64) async throws -> DeploymentProgress {
        do {
            return try await client.get("/v1/deployments/\(id)?after=\(after)", as: DeploymentProgress.self)
        } catch {
            guard error.code == .unavailable else { throw error }
            throw SlipwayError(.failed, "lost the daemon while following deployment \(id); when it starts again the deployment is finished or rolled back (see 'slipway history')")
        }
    }
}
