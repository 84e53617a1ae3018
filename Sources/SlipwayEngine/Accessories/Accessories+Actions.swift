import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// `slipway accessory list|start|stop|restart|logs`.
extension Accessories {
    /// Every configured accessory of `environment` (nil: all), and any still running that the config no longer names.
    public func list(environment: String?) async throws(SlipwayError) -> [AccessoryInfo] {
        // slipway.yml as it is now: a changed accessory shows as drift at once.
        try listed(environment: environment, config: try await context.reloadConfig())
    }

    /// `list` against `cfg` as given (`status`: the config it reports on).
    func listed(environment: String?, config cfg: SlipwayConfig) throws(SlipwayError) -> [AccessoryInfo] {
        if let environment { _ = try cfg.environment(environment) }
        let records = try store.accessories.all()
        var out: [AccessoryInfo] = []
        for name in cfg.environmentNames where environment == nil || environment == name {
            let env = try cfg.environment(name)
            for a in env.accessories {
                let r = records.first { $0.environment == name && $0.name == a.name }
                out.append(info(r, environment: name, name: a.name, settings: a))
            }
            for r in records where r.environment == name && !env.accessories.contains(where: { $0.name == r.name }) && r.pid > 0 {
                out.append(info(r, environment: name, name: r.name, settings: nil))
            }
        }
        return out
    }

    private func info(_ r: AccessoryRecord?, environment: String, name: String, settings: AccessorySettings?) -> AccessoryInfo {
        let alive = Self.running(r)
        let state: AccessoryInfo.State = switch (r, alive) {
        case (nil, _): .pending
        case (_, true): .running
        case (let r?, false): r.wanted ? .crashed : .stopped
        }
        return AccessoryInfo(environment: environment, name: name, state: state, pid: alive ? r?.pid : nil,
                             ready: alive && (settings?.tcpPort.map { Self.accepts(port: $0) } ?? true), restarts: r?.restarts ?? 0, startedAt: r?.startedAt,
                             command: settings?.command ?? "", drift: settings.map { s in r.map { alive && $0.startedWith != s.fingerprint } ?? false } ?? false,
                             configured: settings != nil, logFile: r?.logFile)
    }

    /// `start`: wanted up again (a stopped one starts now; a running one is left as it is).
    public func start(_ name: String, request: EnvironmentRequest) async throws(SlipwayError) -> AccessoryInfo {
        _ = try await context.reloadConfig()
        let (env, a) = try settings(name, environment: request.environment)
        let record = try store.accessories.find(environment: env.name, name: name)
        let alive = Self.running(record)
        let note = AuditNote(request.by, action: "accessory.start", target: "\(env.name)/\(name)", outcome: "ok", detail: alive ? "already running" : "started")
        if let record { try store.accessories.setWanted(true, record, audit: note) }
        if !alive {
            forgetBackoff("\(env.name)/\(name)")
            try await start(a, env: env, after: record.map(Self.forgiven))
        }
        return try await info(env.name, name)
    }

    /// `stop`: wanted down (recorded first), then SIGTERM and SIGKILL after `stop_timeout`.
    public func stop(_ name: String, request: EnvironmentRequest) async throws(SlipwayError) -> AccessoryInfo {
        let env = try await context.reloadConfig().environment(request.environment)
        guard let record = try store.accessories.find(environment: env.name, name: name) else {
            _ = try settings(name, environment: env.name)
            throw .usage("accessory \(name) of \(env.name) was never started")
        }
        try store.accessories.setWanted(false, record, audit: AuditNote(request.by, action: "accessory.stop", target: "\(env.name)/\(name)", outcome: "ok", detail: ""))
        forgetBackoff("\(env.name)/\(name)")
        if await terminate(pid: record.pid, startTime: UInt64(record.procStartTime), env.accessories.first { $0.name == name }, environment: env.name) { logger.warning("accessory ignored SIGTERM; killed", metadata: ["accessory": "\(env.name)/\(name)"]) }
        return try await info(env.name, name)
    }

    /// `restart`: stopped and started with the config as it is now (what applies a changed config: no drift after).
    public func restart(_ name: String, request: EnvironmentRequest) async throws(SlipwayError) -> AccessoryInfo {
        _ = try await context.reloadConfig()
        let (env, a) = try settings(name, environment: request.environment)
        let record = try store.accessories.find(environment: env.name, name: name)
        if let record {
            try store.accessories.setWanted(true, record, audit: AuditNote(request.by, action: "accessory.restart", target: "\(env.name)/\(name)", outcome: "ok",
                                                                           detail: record.startedWith == a.fingerprint ? "same config" : "config changed"))
            _ = await terminate(pid: record.pid, startTime: UInt64(record.procStartTime), a, environment: env.name)
        }
        forgetBackoff("\(env.name)/\(name)")
        // Re-read: the supervision may have started it again meanwhile.
        let now = try store.accessories.find(environment: env.name, name: name)
        if let now, Self.running(now), now.pid != record?.pid { return try await info(env.name, name) }
        try await start(a, env: env, after: now.map(Self.forgiven))
        return try await info(env.name, name)
    }

    /// A person's start or restart begins a new count of crashes.
    static func forgiven(_ r: AccessoryRecord) -> AccessoryRecord {
        var r = r
        r.crashes = 0
        return r
    }

    /// The last `lines` lines of the accessory's log.
    public func logs(_ name: String, environment: String?, lines: Int) throws(SlipwayError) -> String {
        let env = try config.environment(environment)
        guard let record = try store.accessories.find(environment: env.name, name: name) else {
            _ = try settings(name, environment: env.name)
            return ""
        }
        let text = (try? String(contentsOfFile: record.logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1).joined(separator: "\n")
    }

    private func info(_ environment: String, _ name: String) async throws(SlipwayError) -> AccessoryInfo {
        guard let i = try await list(environment: environment).first(where: { $0.name == name }) else { throw .notFound("no accessory \(name) in \(environment)") }
        return i
    }

    private func settings(_ name: String, environment: String?) throws(SlipwayError) -> (EnvironmentConfig, AccessorySettings) {
        let env = try config.environment(environment)
        guard let a = env.accessories.first(where: { $0.name == name }) else {
            let names = env.accessories.map(\.name)
            throw .usage("\(env.name) has no accessory '\(name)'\(names.isEmpty ? "; accessories: in slipway.yml declares them" : " (it has: \(names.joined(separator: ", ")))")")
        }
        return (env, a)
    }
}
