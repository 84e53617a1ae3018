import SlipwayCore

/// Sticky routing while a canary serves beside the stable release (`canary.sticky`).
extension ClientConnection {
    /// The `Set-Cookie` line that keeps a client on `pool` (the cookie lives as long as the browser session).
    static func stickyCookie(_ listener: RouteSnapshot.CompiledListener, pool: String) -> String? {
        guard case .cookie(let name)? = listener.sticky else { return nil }
        return "set-cookie: \(name)=\(pool); Path=/; HttpOnly; SameSite=Lax\r\n"
    }
}

/// `canary.retry_on_stable`: a body-less GET or HEAD the canary answered with a 5xx goes once more, to the
/// stable release; the canary's failure stays in its pool's figures (analysis sees it), the client gets
/// the stable release's answer.
extension ClientConnection {
    /// The stable release's pool, when the canary's pool answered this request (the machine knows
    /// whether the request may go again; this must not read it: it is asked while the machine runs).
    func stableFallback() -> RouteSnapshot.CompiledPool? {
        guard let failed = currentPool, retryCanary == failed.name, let listener = currentListener() else { return nil }
        return listener.pools.first { $0.name != failed.name }
    }

    func retryOnStable(_ fallback: RouteSnapshot.CompiledPool, failed status: Int) {
        currentPool?.stats.end(status: status, loop: pool.index, startedAt: startedAt)
        stopResponseTimer()
        // The canary's answer (and whatever of its body came along) is dropped with its connection.
        machine.retryOnStable()
        closeUpstream()
        setCookie = nil
        currentPool = fallback
        tried.removeAll(keepingCapacity: true)
        connectTimedOut = false
        fallback.stats.begin()
        connect(fresh: false)
    }
}
