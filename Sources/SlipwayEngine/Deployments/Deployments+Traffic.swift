import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// Approvals' decisions (they start the deploy as these deployments' `DeploymentSteps`), and a data
/// rollback's hold on requests, which the switch lifts.
extension Deployments {
    /// `slipway approve|reject ID` (`Approvals`): the requester never decides their own; a reject ends the request.
    public func decide(_ request: ApprovalRequest, by: Principal) async throws(SlipwayError) -> ApprovalStatus {
        try await approvals.decide(request, by: by, on: self)
    }

    /// The `approvals` periodic job: approved deploys that could not start yet try again.
    func startApprovedDeploys() async { await approvals.startApproved(on: self) }

    /// `rollback --with-data`: the router holds `env`'s new requests from the start of the restore until the
    /// switch (`Maintenance.holdForDataRollback`). An operator's own maintenance mode is left as it is.
    func holdTraffic(_ env: EnvironmentConfig, for d: DeploymentInfo) async throws(SlipwayError) {
        let log = DeployLog(path: d.logFile)
        if let existing = try await maintenanceModes.holdForDataRollback(env.name, deployment: d.id) {
            note(d, "\(env.name) is in maintenance (\(existing.mode.rawValue)) already: no request reaches the data during the restore", log: log)
        } else {
            note(d, "holding new requests to \(env.name) until the switch (each for up to \(Maintenance.dataRollbackHoldMs / 1000)s)", log: log)
        }
    }

    /// Lifts `holdTraffic`'s hold for `d` (after the rollback gave up); a switch lifts it itself.
    func releaseTraffic(_ env: EnvironmentConfig, for d: DeploymentInfo) async {
        await maintenanceModes.releaseDataRollbackHold(env.name, deployment: d.id)
    }
}
