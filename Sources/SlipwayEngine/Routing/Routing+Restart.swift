import SlipwayCore
import SlipwayStore

extension Routing {
    /// `slipway restart-router`: a new router process takes the listening sockets over (no connection
    /// refused, no request failed) and the old one drains. Audited.
    public func restart(actor: Principal) async throws(SlipwayError) -> RouterRestartResult {
        do {
            try await router.ensureRunning(logger: logger)
            let pid = try await router.restart()
            try store.audit(actor, action: "router.restart", target: "router", outcome: "ok", detail: "pid \(pid)")
            try store.record(Event(environment: nil, payload: .router(.init(pid: pid, detail: "a new router process took the listening sockets over"))))
            return RouterRestartResult(pid: pid)
        } catch {
            try store.audit(actor, action: "router.restart", target: "router", outcome: "failed", detail: error.message)
            throw error
        }
    }
}
