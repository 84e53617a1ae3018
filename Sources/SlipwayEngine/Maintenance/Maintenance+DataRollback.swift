import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// Holds on requests the daemon sets itself: maintenance `paused`, marked with its holder, so only the holder lifts it
/// and an operator's own mode is left as it is. A data rollback's is lifted by its switch
/// (`store.environments.switchRelease(liftingHoldOf:)`); an in-place restore's when it ends, and one a dead daemon left
/// by the next start (`liftRestoreHolds`).
extension Maintenance {
    /// How long the router holds one request while the data is put back.
    static let dataRollbackHoldMs: Int64 = 60_000

    /// The marker a data rollback's hold carries.
    static func holder(of deployment: Int64) -> String { "slipway rollback \(deployment)" }

    /// The marker an in-place restore's hold carries (no restore outlives its daemon: the next start lifts these).
    static let restoreHolder = "slipway restore"

    /// Holds `environment`'s new requests for `deployment`: recorded, pushed and noted before it returns.
    /// The operator's own mode when one was on already (then nothing changed: no request reaches the data anyway).
    func holdForDataRollback(_ environment: String, deployment: Int64) async throws(SlipwayError) -> MaintenanceMode? {
        try await hold(environment, holder: Self.holder(of: deployment), detail: "requests held while deployment \(deployment) restores data")
    }

    /// Lifts `deployment`'s hold (after the rollback gave up); a switch lifts it itself. True when there was one.
    @discardableResult
    func releaseDataRollbackHold(_ environment: String, deployment: Int64) async -> Bool {
        await release(environment, holder: Self.holder(of: deployment), detail: "held requests released: deployment \(deployment) did not finish")
    }

    /// Holds `environment`'s new requests while `holder` puts data back: recorded, pushed and noted before it returns;
    /// the operator's own mode when one was on already (nothing changed).
    func hold(_ environment: String, holder: String, detail: String) async throws(SlipwayError) -> MaintenanceMode? {
        let hold = MaintenanceMode(mode: .paused, html: MaintenanceMode.page(message: "We are restoring data and will be back shortly."),
                                   retryAfterS: 30, holdLimitMs: Self.dataRollbackHoldMs, since: Int64(Date().timeIntervalSince1970), actor: holder)
        if let existing = try store.environments.holdRequests(hold, environment: environment) { return existing }
        do { try await routing.push() } catch {
            // Not pushed: the router never held anything. Taken back so the record says what the router does.
            logger.write("take back \(holder)'s hold the router never got", to: store) { () throws(SlipwayError) in
                _ = try store.environments.releaseHold(environment: environment, holder: holder)
            }
            throw error
        }
        record(environment, hold, detail: detail)
        return nil
    }

    /// Lifts `holder`'s hold on `environment`; true when there was one.
    @discardableResult
    func release(_ environment: String, holder: String, detail: String) async -> Bool {
        let lifted = logger.write("lift \(holder)'s hold on requests", to: store) { () throws(SlipwayError) in
            try store.environments.releaseHold(environment: environment, holder: holder)
        }
        guard lifted == true else { return false }
        await routing.pushLogged()
        record(environment, nil, detail: detail)
        return true
    }

    /// On start: a restore's hold a dead daemon left (its restore ended with it) is lifted.
    func liftRestoreHolds(_ environments: [String]) async {
        for name in environments {
            do {
                guard try store.environment(name).maintenance?.actor == Self.restoreHolder else { continue }
            } catch {
                logger.error("cannot read whether a restore's hold on requests was left", metadata: ["environment": "\(name)", "error": "\(error)"])
                continue
            }
            await release(name, holder: Self.restoreHolder, detail: "held requests released: the restore that held them ended with its daemon")
        }
    }
}
