import SlipwayCore
import SlipwayStore

extension Engine {
    /// `slipway restart-router`: a new router process takes the listening sockets over (no connection
    /// refused, no request failed) and the old one drains. Audited.
    public func restartRouter(actor: String) async throws(SlipwayError) -> RouterRestartResult {
        do {
            try await router.ensureRunning(logger: logger)
            let pid = try await router.restart()
            store.audit(actor: actor, action: "router.restart", target: "router", outcome: "ok", detail: "pid \(pid)")
            return RouterRestartResult(pid: pid)
        } catch {
            store.audit(actor: actor, action: "router.restart", target: "router", outcome: "failed", detail: error.message)
            throw error
        }
    }
}
