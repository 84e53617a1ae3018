import Foundation
import SlipwayCore

/// Putting hosts back: after a failed batch (the hosts switched so far), or `slipway deploy rollback ID` (every
/// host of the environment; one that never ran the deployment does nothing).
extension FleetDeploy {
    func revert(_ hosts: [any FleetHost], _ indices: [Int], epoch: Int64, _ outcome: inout FleetOutcome) async {
        let request = HostRevertRequest(environment: environment, deployment: deployment, epoch: epoch, actor: actor)
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

    /// Reverts `deployment` on every host (under the lease): each puts back what it replaced there.
    public func rollback(hosts: [any FleetHost], leaseHost: (any FleetHost)? = nil) async -> FleetOutcome {
        await perform(.revertAll, hosts: hosts, leaseHost: leaseHost)
    }

    func revertAll(_ hosts: [any FleetHost], _ targets: [Int], _ outcome: inout FleetOutcome) async {
        outcome.phase = .revert
        log("reverting \(deployment) on \(targets.count) host(s)")
        await revert(hosts, targets, epoch: outcome.epoch, &outcome)
        let failed = outcome.hosts.filter { $0.state == .revertFailed }.map(\.host)
        outcome.state = failed.isEmpty ? .rolledBack : .partial
        outcome.message = failed.isEmpty ? "\(deployment) reverted on \(targets.count) host(s)" : "the revert failed on \(failed.joined(separator: ", "))"
        log(outcome.message)
    }
}
