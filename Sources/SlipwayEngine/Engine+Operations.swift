import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// The engine's entry points into feature objects that move instances or a deployment on: each passes the
/// engine as their `DeploymentSteps`. And a data rollback's hold on requests, which the switch lifts.
extension Engine {
    /// `slipway approve|reject ID` (`Approvals`): the requester never decides their own; a reject ends the request.
    public func decide(_ request: ApprovalRequest, by: Principal) async throws(SlipwayError) -> ApprovalStatus {
        try await approvals.decide(request, by: by, on: self)
    }

    /// The `approvals` periodic job: approved deploys that could not start yet try again.
    func startApprovedDeploys() async { await approvals.startApproved(on: self) }

    /// `slipway scale` (`Capacity`, with new instances gated as a deployment's); the environment's status after it.
    public func scale(_ request: ScaleRequest) async throws(SlipwayError) -> EnvironmentStatus {
        let name = try await capacity.scale(request, on: self)
        return try await reports.status(of: name)
    }

    /// `slipway down` (`Capacity`): stops environments' instances and removes their listeners; with `all`, the router too.
    public func down(environment: String?, all: Bool, actor: Principal) async throws(SlipwayError) {
        try await capacity.down(environment: environment, all: all, actor: actor)
    }

    /// `slipway maintenance on|pause|resume|off` (`Maintenance`); the environment's status after it.
    public func maintenance(_ request: MaintenanceRequest) async throws(SlipwayError) -> EnvironmentStatus {
        let name = try await maintenanceModes.apply(request)
        return try await reports.status(of: name)
    }

    /// `rollback --with-data`: the router holds `env`'s new requests (maintenance `paused`, marked as this
    /// deployment's) from the start of the restore until the switch. Recorded and pushed before it returns.
    /// An operator's own maintenance mode (already answering the page, or already holding) is left as it is.
    func holdTraffic(_ env: EnvironmentConfig, for d: DeploymentInfo) async throws(SlipwayError) {
        let hold = MaintenanceMode(mode: .paused, html: MaintenanceMode.page(message: "We are restoring data and will be back shortly."),
                                   retryAfterS: 30, holdLimitMs: DeploymentData.holdMs, since: Int64(Date().timeIntervalSince1970),
                                   actor: Self.holdActor(d))
        if let existing = try store.holdRequests(hold, environment: env.name) {
            note(d, "\(env.name) is in maintenance (\(existing.mode.rawValue)) already: no request reaches the data during the restore",
                 log: DeployLog(path: d.logFile))
            return
        }
        try await pushTable()
        maintenanceModes.record(env.name, hold, detail: "requests held while deployment \(d.id) restores data")
        note(d, "holding new requests to \(env.name) until the switch (each for up to \(DeploymentData.holdMs / 1000)s)", log: DeployLog(path: d.logFile))
    }

    /// Lifts a hold set by `holdTraffic` for `d` (after the rollback gave up); a switch lifts it itself.
    func releaseTraffic(_ env: EnvironmentConfig, for d: DeploymentInfo) async {
        let lifted = logger.write("lift deployment \(d.id)'s hold on requests", to: store) { () throws(SlipwayError) in
            try store.releaseHold(environment: env.name, holder: Self.holdActor(d))
        }
        guard lifted == true else { return }
        await pushTableLogged()
        maintenanceModes.record(env.name, nil, detail: "held requests released: deployment \(d.id) did not finish")
    }

    /// The marker a data rollback's hold carries, so the switch lifts only its own.
    static func holdActor(_ d: DeploymentInfo) -> String { "slipway rollback \(d.id)" }
}
