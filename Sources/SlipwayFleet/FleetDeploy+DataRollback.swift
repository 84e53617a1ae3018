import Foundation
import SlipwayCore

/// `slipway rollback --with-data` on a fleet. With one database the hosts share (`fleet.data: once`): the other hosts
/// hold their requests (maintenance `pause`), the data host restores the backup taken before the deploy being undone
/// and switches back through its health gate (its own daemon undoes the restore if the switch fails), then every other
/// host switches back without data steps, and the hold is lifted; a failed restore lifts the hold with nothing else
/// changed. With a database on each host (`each_host`), every host restores its own backup and switches at once.
extension FleetDeploy {
    func rollbackWithData(_ hosts: [any FleetHost], _ targets: [Int], _ data: DataRollback, _ outcome: inout FleetOutcome) async {
        outcome.phase = .activate
        func request(withData: Bool, backupId: String?) -> HostActivateRequest {
            var r = HostActivateRequest(environment: environment, version: version, deployment: deployment, epoch: outcome.epoch, actor: actor,
                                        kind: .rollback, skipData: withData ? nil : true)
            r.withData = withData ? true : nil
            r.backupId = backupId
            return r
        }
        func activate(_ indices: [Int], _ r: HostActivateRequest, _ outcome: inout FleetOutcome) async -> [Int] {
            record(indices, await activations(indices, r, hosts: hosts), hosts: hosts, &outcome).failed
        }
        if data.eachHost {
            log("rollback with data: every host restores its own backup and switches back to \(version)")
            let failed = await activate(targets, request(withData: true, backupId: nil), &outcome)
            finish(failed, hosts, &outcome)
            return
        }
        guard let dataHost = targets.first else { return }
        let others = Array(targets.dropFirst())
        let hold = DurationParsing.format(settings.healthyDeadline)
        log("rollback with data: \(others.map { hosts[$0].name }.joined(separator: ", ")) hold their requests (up to \(hold) each); "
            + "\(hosts[dataHost].name) restores the backup and switches back to \(version)")
        await maintenance(hosts, others, .pause, limit: hold)
        let failedData = await activate([dataHost], request(withData: true, backupId: data.backupId), &outcome)
        if !failedData.isEmpty {
            await maintenance(hosts, others, .resume, limit: nil)
            outcome.state = .failed
            outcome.message = "the data rollback failed on \(hosts[dataHost].name): \(outcome.hosts[dataHost].message); the other hosts were not switched"
            log(outcome.message)
            return
        }
        let failed = await activate(others, request(withData: false, backupId: nil), &outcome)
        await maintenance(hosts, others, .resume, limit: nil)
        finish(failed, hosts, &outcome)
    }

    /// The outcome of a data rollback: every host back, or the ones that are not named (they keep what they served).
    private func finish(_ failed: [Int], _ hosts: [any FleetHost], _ outcome: inout FleetOutcome) {
        if failed.isEmpty {
            outcome.state = .succeeded
            outcome.message = "\(version) serves on \(outcome.hosts.filter { $0.state == .activated }.count) host(s), with the data from before the deploy it undid"
        } else {
            outcome.state = .partial
            outcome.message = "\(failed.map { hosts[$0].name }.joined(separator: ", ")) did not switch back to \(version); the data was restored"
        }
        log(outcome.message)
    }

    /// Pauses (holding requests up to `limit`) or resumes the environment on `indices`; a host that cannot is said.
    func maintenance(_ hosts: [any FleetHost], _ indices: [Int], _ action: MaintenanceBody.Action, limit: String?) async {
        // The page names this rollback: a later fleet operation lifts a hold whose controller died (`liftStrandedHolds`).
        let r = MaintenanceRequest(environment: environment, action: action, message: action == .pause ? HostStatus.fleetHoldPrefix + deployment : nil,
                                   limit: limit, actor: actor)
        let results = await concurrently(indices, limit: maxParallel) { [app] i async -> SlipwayError? in
            do throws(SlipwayError) { try await hosts[i].maintenance(app: app, r); return nil } catch { return error }
        }
        for (i, e) in zip(indices, results) where e != nil {
            log("  \(hosts[i].name): cannot \(action == .pause ? "hold its requests" : "lift the hold"): \(e?.message ?? "")")
        }
    }
}

extension FleetDeploy {
    /// Hosts still holding requests for a fleet data rollback whose controller died before lifting it: lifted now (the
    /// preflight of every fleet operation), said in the log.
    func liftStrandedHolds(_ hosts: [any FleetHost], _ statuses: [Int: HostStatus]) async {
        let stranded = statuses.compactMap { i, s -> (Int, String)? in
            s.environments.first { $0.app == app && $0.name == environment }?.fleetHold.flatMap { $0 == deployment ? nil : (i, $0) }
        }.sorted { $0.0 < $1.0 }
        guard !stranded.isEmpty else { return }
        log("lifting the hold left by \(Set(stranded.map(\.1)).sorted().joined(separator: ", ")) on \(stranded.map { hosts[$0.0].name }.joined(separator: ", "))")
        await maintenance(hosts, stranded.map(\.0), .resume, limit: nil)
    }
}
