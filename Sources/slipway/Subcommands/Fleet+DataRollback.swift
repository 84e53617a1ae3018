import Foundation
import SlipwayCore
import SlipwayFleet

extension FleetCommand {
    /// `slipway rollback --with-data` on a fleet: what the data host (the environment's first host) would restore, said
    /// first and confirmed (or `--yes`), as on one host. With `fleet.data: each_host` every host restores its own backup.
    static func confirmDataRollback(_ cfg: SlipwayConfig, _ env: EnvironmentConfig, _ hosts: [any FleetHost], version: String,
                                    json: Bool, yes: Bool) async throws -> FleetDeploy.DataRollback {
        let eachHost = env.fleet.dataSteps(backup: env.backup) == .eachHost
        guard let first = hosts.first as? HostClient else { throw SlipwayError.usage("environments.\(env.name).hosts is empty") }
        let plan: DataRollbackPlan
        do {
            try await first.connect()
            plan = try await first.rollbackPlan(app: cfg.app, environment: env.name, version: version)
        } catch {
            await first.disconnect()
            throw error
        }
        await first.disconnect()
        DeployFollower.say("on \(first.name)" + (eachHost ? " (every host restores its own backup: fleet.data: each_host)" : ", the fleet's data host") + ":", json: json)
        DeployFollower.say(Rollback.describe(plan), json: json)
        if !eachHost, hosts.count > 1 {
            DeployFollower.say("  the other \(hosts.count - 1) host(s) hold their requests while it restores, then switch back too", json: json)
        }
        if !yes {
            guard isatty(0) != 0 else { throw SlipwayError.usage("rollback --with-data overwrites live data; pass --yes to confirm") }
            print("Roll back code and data on the fleet? [y/N] ", terminator: "")
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { throw SlipwayError.policy("not confirmed; nothing changed") }
        }
        return FleetDeploy.DataRollback(backupId: eachHost ? nil : plan.backup.id, eachHost: eachHost)
    }
}
