import Foundation
import SlipwayCore
import SlipwayStore

/// A data rollback's hold on requests: maintenance `paused`, marked as the deployment's, so the switch
/// (`store.environments.switchRelease(liftingHoldOf:)`) lifts only its own and an operator's own mode is left as it is.
extension Maintenance {
    /// How long the router holds one request while the data is put back.
    static let dataRollbackHoldMs: Int64 = 60_000

    /// The marker a data rollback's hold carries.
    static func holder(of deployment: Int64) -> String { "slipway rollback \(deployment)" }

    /// Holds `environment`'s new requests for `deployment`: recorded, pushed and noted before it returns.
    /// The operator's own mode when one was on already (then nothing changed: no request reaches the data anyway).
    func holdForDataRollback(_ environment: String, deployment: Int64) async throws(SlipwayError) -> MaintenanceMode? {
        let hold = MaintenanceMode(mode: .paused, html: MaintenanceMode.page(message: "We are restoring data and will be back shortly."),
                                   retryAfterS: 30, holdLimitMs: Self.dataRollbackHoldMs, since: Int64(Date().timeIntervalSince1970),
                                   actor: Self.holder(of: deployment))
        if let existing = try store.environments.holdRequests(hold, environment: environment) { return existing }
        try await routing.push()
        record(environment, hold, detail: "requests held while deployment \(deployment) restores data")
        return nil
    }

    /// Lifts `deployment`'s hold (after the rollback gave up); a switch lifts it itself. True when there was one.
    @discardableResult
    func releaseDataRollbackHold(_ environment: String, deployment: Int64) async -> Bool {
        let lifted = logger.write("lift deployment \(deployment)'s hold on requests", to: store) { () throws(SlipwayError) in
            try store.environments.releaseHold(environment: environment, holder: Self.holder(of: deployment))
        }
        guard lifted == true else { return false }
        await routing.pushLogged()
        record(environment, nil, detail: "held requests released: deployment \(deployment) did not finish")
        return true
    }
}
