import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Per environment: current release, instances (release, port, pid, state).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let client = try global.client()
        let path = envOption.env.map { "/v1/status?env=\($0)" } ?? "/v1/status"
        let list: [EnvironmentStatus] = try await client.get(path)
        if json { Output.json(list); return }
        for s in list {
            let current: String = s.currentRelease ?? "nothing serving"
            var line = "\(s.name): \(current) on \(s.listen) (\(s.strategy.rawValue))"
            if let previous = s.previousRelease { line += ", previous \(previous)" }
            if let lock = s.lock { line += ", LOCKED by \(lock.holder)" }
            if let w = s.watch {
                line += ", watching \(w.release) (\(Output.age(max(0, Int(w.until.timeIntervalSinceNow)))) left; \(w.previous) warm)"
            }
            if let c = s.canary {
                line += ", CANARY \(c.release) at \(c.weight)% (step \(c.step + 1) of \(c.steps))"
            }
            if let m = s.maintenance { line += m.mode == .on ? ", MAINTENANCE (503 page)" : ", PAUSED (requests held up to \(m.holdLimitMs / 1000)s)" }
            print(line)
            if let shared = s.shared { print("  data: \(shared)" + (s.diskFree.map { String(format: " (%.0f%% of its filesystem free)", $0 * 100) } ?? "")) }
            if let limit = s.memoryLimit {
                let how = s.memoryLimitEnforcement ?? "measured"
                print("  memory limit: \(ByteFormat.bytes(limit)) per instance, \(how)" + (how.hasPrefix("enforced") ? "" : " (alerts and analysis compare with it; nothing enforces it)"))
            }
            if !s.secrets.isEmpty {
                print("  secrets: " + s.secrets.map { "\($0.name) (\($0.source ?? "NOT SET"))" }.joined(separator: ", "))
            }
            for a in s.accessories ?? [] {
                let note = a.drift ? "; config changed: slipway accessory restart \(a.name) applies it" : ""
                print("  accessory \(a.name): \(a.state.rawValue)\(a.pid.map { " (pid \($0))" } ?? "")\(a.state == .running ? (a.ready ? ", ready" : ", not ready") : "")\(note)")
            }
            for t in s.processes ?? [] {
                let up = t.processes.filter { $0.state == .running }
                let releases = Set(up.map(\.release)).sorted().joined(separator: ", ")
                print("  process type \(t.name): \(up.count)/\(t.wanted) running\(releases.isEmpty ? "" : " (\(releases))")\(t.singleton ? ", singleton" : "")"
                      + t.processes.filter { $0.state != .running }.map { ", \($0.release)-\($0.slot) \($0.state.rawValue)" }.joined())
            }
            for c in s.continuous ?? [] {
                let shipped = c.lastShipped.map { "newest change shipped \(Output.age(Int(Date().timeIntervalSince($0)))) ago" } ?? "nothing shipped yet"
                print("  archive \(c.source): \(c.error.map { "NOT ARCHIVING: \($0)" } ?? shipped)" + (c.lagSeconds.map { String(format: ", %.1f s behind", $0) } ?? ""))
            }
            if s.instances.isEmpty { print("  no instances"); continue }
            var rows: [[String]] = []
            for i in s.instances {
                let ready: String = i.ready ? "yes" : "no"
                rows.append(["  \(i.release)", "\(i.slot)", "\(i.port)", "\(i.pid)", i.state.rawValue, ready, "\(i.restarts)",
                             i.cpu.map { String(format: "%.1f%%", $0 * 100) } ?? "-", i.rssBytes.map { ByteFormat.bytes($0) } ?? "-", Output.time(i.startedAt)])
            }
            Output.table(["  RELEASE", "SLOT", "PORT", "PID", "STATE", "READY", "RESTARTS", "CPU", "RSS", "STARTED"], rows)
        }
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Deployments, newest first: id, version, strategy, state, actor, started/finished, outcome.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Option(help: "How many") var limit = 50
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        if try await FleetCommand.history(global, envOption.env, limit: limit, json: json) { return }
        let client = try global.client()
        var path = "/v1/deployments?limit=\(limit)"
        if let env = envOption.env { path += "&env=\(env)" }
        let list: [DeploymentInfo] = try await client.get(path)
        if json { Output.json(list); return }
        var rows: [[String]] = []
        for d in list {
            let from: String = d.previousVersion ?? "-"
            let message: String = Output.firstLine(d.message) ?? "-"
            let actor = d.onBehalfOf.map { "\(d.actor) (for \($0))" } ?? d.actor
            rows.append(["\(d.id)", d.environment, d.kind.rawValue, d.version, from, d.strategy.rawValue, d.state.rawValue, actor,
                         Output.time(d.startedAt), Output.time(d.finishedAt), message])
        }
        Output.table(["ID", "ENV", "KIND", "VERSION", "FROM", "STRATEGY", "STATE", "ACTOR", "STARTED", "FINISHED", "MESSAGE"], rows)
    }
}

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a deployment's log, or with --app the instances' own output (each line tagged release#slot, or release type#slot for a process type other than web).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Argument(help: "The deployment id (slipway history)") var deploymentId: Int64?
    @Flag(help: "The instances' output instead of a deployment's log") var app = false
    @Option(help: "With --app: only this release's instances") var release: String?
    @Option(help: "With --app: only this process type's output (web, worker, …)") var type: String?
    @Option(help: "With --app: the last N lines of each instance's log first") var lines = 100
    @Flag(name: .shortAndLong, help: "With --app: keep printing what the instances write") var follow = false

    func validate() throws {
        if app == (deploymentId != nil) { throw ValidationError("give a deployment id, or --app (not both)") }
        if !app, release != nil || follow || type != nil { throw ValidationError("--release, --type and --follow go with --app") }
    }

    func run() async throws {
        let client = try global.client()
        guard app else {
            let id = deploymentId ?? 0
            _ = try await client.get("/v1/deployments/\(id)?after=\(Int64.max)", as: DeploymentProgress.self)
            print(try await client.text("/v1/deployments/\(id)/log"), terminator: "")
            return
        }
        var q = ["tail=\(lines)"]
        if let e = envOption.env { q.append("env=\(e)") }
        if let r = release { q.append("release=\(r)") }
        if let t = type { q.append("type=\(t)") }
        var page: AppLogPage = try await client.get("/v1/logs/app?" + q.joined(separator: "&"))
        while true {
            for l in page.lines {
                let who = l.type.map { $0 == "web" ? "" : " \($0)" } ?? ""
                print("[\(l.release)\(who)#\(l.slot)] \(l.text)")
            }
            guard follow else { return }
            fflush(nil)
            try await Task.sleep(for: .milliseconds(500))
            page = try await client.get("/v1/logs/app?" + (q + ["cursor=\(page.cursor)"]).joined(separator: "&"))
        }
    }
}

struct Scale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run N instances of the current release (new ones are health-gated before traffic), or N of a process type.",
        discussion: "slipway scale 3 (the web type), slipway scale worker=5 clock=0, slipway scale web=4 worker=2.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Argument(help: "N (web instances, 1-64) or TYPE=N (a process type, 0-64)") var counts: [String]

    func validate() throws {
        guard !counts.isEmpty else { throw ValidationError("Missing expected argument '<counts>' (N, or TYPE=N like worker=5)") }
        for c in counts where Self.parse(c) == nil { throw ValidationError("expected N or TYPE=N (like 3 or worker=5), got '\(c)'") }
    }

    static func parse(_ text: String) -> (type: String?, instances: Int)? {
        let parts = text.split(separator: "=", omittingEmptySubsequences: false)
        if parts.count == 1 { return Int(text).map { (nil, $0) } }
        guard parts.count == 2, !parts[0].isEmpty, let n = Int(parts[1]) else { return nil }
        return (String(parts[0]), n)
    }

    func run() async throws {
        let client = try global.client()
        for c in counts {
            guard let (type, instances) = Self.parse(c) else { continue }
            let s: EnvironmentStatus = try await client.post("/v1/scale", ScaleRequest(environment: envOption.env, instances: instances, type: type,
                                                                                       actor: DaemonClient.actor))
            let current: String = s.currentRelease ?? "nothing"
            if let type, type != "web", let t = s.processes?.first(where: { $0.name == type }) {
                print("\(s.name): \(t.processes.filter { $0.state == .running && $0.release == s.currentRelease }.count) \(type) process(es) of \(current) running (wanted \(t.wanted))")
            } else {
                let running = s.instances.filter { $0.release == s.currentRelease && $0.state == .running }.count
                print("\(s.name): \(running) instance(s) of \(current) running")
            }
        }
    }
}

struct Lock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show or release deployment locks.", subcommands: [LockStatus.self, LockRelease.self])

    struct LockStatus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "List held locks.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON") var json = false
        func run() async throws {
            let client = try global.client()
            let locks: [LockInfo] = try await client.get("/v1/locks")
            if json { Output.json(locks); return }
            if locks.isEmpty { print("no locks held"); return }
            var rows: [[String]] = []
            for l in locks {
                let id: String = l.deploymentId.map { String($0) } ?? "-"
                rows.append([l.environment, l.holder, id, Output.time(l.acquiredAt), Output.time(l.heartbeatAt)])
            }
            Output.table(["ENV", "HOLDER", "DEPLOYMENT", "SINCE", "HEARTBEAT"], rows)
        }
    }

    struct LockRelease: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "release", abstract: "Force-release an environment's lock (audited).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var envOption: EnvOption
        func run() async throws {
            let client = try global.client()
            let released: [LockInfo] = try await client.post("/v1/locks/release", EnvironmentRequest(environment: envOption.env, actor: DaemonClient.actor))
            if let l = released.first { print("released the lock of \(l.holder) on \(l.environment)") } else { print("no lock was held") }
        }
    }
}

struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Take an environment offline: stop its instances and its listener (--all: every environment and the router).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Flag(help: "Every environment, and stop the router process") var all = false

    func run() async throws {
        let client = try global.client()
        let _: [String: String] = try await client.post("/v1/down", DownRequest(environment: envOption.env, all: all, actor: DaemonClient.actor))
        print(all ? "all environments are down; the router is stopped" : "\(envOption.env ?? "the environment") is down")
    }
}
