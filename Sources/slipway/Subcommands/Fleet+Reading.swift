import Foundation
import SlipwayCore
import SlipwayFleet
import SlipwayRuntime

/// `history`, `events`, `audit` and `report` on a fleet environment read the shared state (`state.postgres`): what
/// every operator's deploys recorded there.
extension FleetCommand {
    /// The fleet environment these commands read the shared state for: the one `--env` names, or without `--env` the
    /// default one when every environment is a fleet's (else they ask this host's daemon, about all of its
    /// environments, as before). A fleet environment without `state.postgres` has nothing shared to read: a usage error.
    static func sharedEnvironment(_ global: GlobalOptions, _ env: String?) throws -> (SlipwayConfig, EnvironmentConfig)? {
        guard let (cfg, e) = environment(global, env), env != nil || cfg.environments.values.allSatisfy({ !$0.hosts.isEmpty }) else { return nil }
        guard cfg.state.postgresURLSecret != nil else {
            throw SlipwayError.usage("environment \(e.name) is a fleet: its history, events, audit log and DORA are kept in the shared state "
                                     + "(state: { postgres: { url_secret: NAME } } in \(cfg.file)); without it, slipway fleet status shows what each host serves")
        }
        return (cfg, e)
    }

    /// `slipway history` on a fleet environment.
    static func history(_ global: GlobalOptions, _ env: String?, limit: Int, json: Bool) async throws -> Bool {
        guard let (cfg, e) = try sharedEnvironment(global, env) else { return false }
        let list = try await withShared(cfg) { try await $0!.deployments(environment: e.name, limit: limit) }
        if json { Output.json(list); return true }
        Output.table(["ID", "NUMBER", "ENV", "KIND", "VERSION", "STATE", "EPOCH", "HOSTS", "ACTOR", "STARTED", "FINISHED", "MESSAGE"], list.map { d in
            [d.id, String(d.number), d.environment, d.kind.rawValue, d.version, d.state, String(d.epoch), d.hosts.joined(separator: ","), d.actor,
             Output.time(d.startedAt), Output.time(d.finishedAt), Output.firstLine(d.message) ?? "-"]
        })
        return true
    }

    /// `slipway events` on a fleet environment: the shared event log (`--follow` is woken by NOTIFY).
    static func events(_ global: GlobalOptions, _ env: String?, start: Events.Start, follow: Bool, limit: Int, emit: @escaping @Sendable (Event) -> Void) async throws -> Bool {
        guard let (cfg, e) = try sharedEnvironment(global, env) else { return false }
        try await withShared(cfg) { shared in
            let shared = shared!
            let after: Int64
            switch start {
            case .tail:
                let page = try await shared.events(environment: e.name, after: nil, limit: limit)
                page.events.forEach(emit)
                after = page.next
            case .after(let id): after = try await shared.drain(environment: e.name, after: id, emit)
            case .time(let date): after = try await shared.drain(environment: e.name, after: 0) { if $0.time >= date { emit($0) } }
            }
            if follow { try await shared.follow(environment: e.name, after: after, emit) }
        }
        return true
    }

    /// `slipway audit` on a fleet environment: the shared chain's entries for it.
    static func audit(_ global: GlobalOptions, _ env: String?, since: Date?, limit: Int) async throws -> [AuditEntry]? {
        guard let (cfg, e) = try sharedEnvironment(global, env) else { return nil }
        return try await withShared(cfg) { try await $0!.auditEntries(environment: e.name, since: since, limit: limit) }
    }

    /// `slipway audit verify` with a fleet environment and shared state: the shared chain walked.
    static func verifyAudit(_ global: GlobalOptions, _ env: String?) async throws -> AuditVerification? {
        guard let (cfg, _) = try sharedEnvironment(global, env) else { return nil }
        return try await withShared(cfg) { try await $0!.verifyAudit() }
    }

    /// `slipway report` on a fleet environment with shared state: DORA over its fleet deployments (lead time from the
    /// commit times of the releases in this controller's release store; fleets have no incidents of their own).
    static func report(_ global: GlobalOptions, _ env: String?, period: Duration, now: Date = Date()) async throws -> DORAReport? {
        guard let (cfg, e) = try sharedEnvironment(global, env) else { return nil }
        let records = try await withShared(cfg) { try await $0!.deployments(environment: e.name, limit: 100_000) }
        var commits: [String: Date] = [:]
        for r in ReleaseStore(directory: cfg.releasesDirectory).list() { commits[r.version] = r.gitCommitTime }
        return DORAReport.compute(environment: e.name, deployments: FleetDeploymentRecord.doraDeployments(records), incidents: [], commitTimes: commits,
                                  from: now.addingTimeInterval(-period.seconds), to: now)
    }
}
