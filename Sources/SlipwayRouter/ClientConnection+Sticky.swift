import SlipwayCore

/// Sticky routing while a canary serves beside the stable release (`canary.sticky`).
extension ClientConnection {
    /// The client's sticky value in the head just scanned: its cookie's value, or its header's.
    func stickyValue(_ p: UnsafeRawBufferPointer, _ listener: RouteSnapshot.CompiledListener) -> String? {
        guard let sticky = listener.sticky else { return nil }
        let name = listener.stickyName
        for line in scanner.lines {
            switch sticky {
            case .header:
                guard line.nameEnd - line.start == name.count else { continue }
                var same = true
                for i in 0..<name.count where HTTPScan.lower(p[line.start + i]) != name[i] { same = false; break }
                if same { return Self.text(p, line.valueStart, line.valueEnd) }
            case .cookie:
                guard HTTPScan.equals(p, line.start, line.nameEnd, "cookie") else { continue }
                // `a=1; slipway-canary=v2; b=3`: names are case-sensitive.
                var i = line.valueStart
                while i < line.valueEnd {
                    while i < line.valueEnd, p[i] == UInt8(ascii: " ") || p[i] == UInt8(ascii: ";") { i += 1 }
                    let start = i
                    while i < line.valueEnd, p[i] != UInt8(ascii: ";") { i += 1 }
                    let end = i
                    guard end - start > name.count, p[start + name.count] == UInt8(ascii: "=") else { continue }
                    var same = true
                    for k in 0..<name.count where p[start + k] != name[k] { same = false; break }
                    if same { return Self.text(p, start + name.count + 1, end) }
                }
            }
        }
        return nil
    }

    /// The `Set-Cookie` line that keeps a client on `pool` (the cookie lives as long as the browser session).
    static func stickyCookie(_ listener: RouteSnapshot.CompiledListener, pool: String) -> String? {
        guard case .cookie(let name)? = listener.sticky else { return nil }
        return "set-cookie: \(name)=\(pool); Path=/; HttpOnly; SameSite=Lax\r\n"
    }

    private static func text(_ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> String {
        var end = e
        while end > s, HTTPScan.isSpace(p[end - 1]) { end -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: p[s..<end]), as: UTF8.self)
    }
}

/// `canary.retry_on_stable`: a body-less GET or HEAD the canary answered with a 5xx goes once more, to the
/// stable release; the canary's failure stays in its pool's figures (analysis sees it), the client gets
/// the stable release's answer.
extension ClientConnection {
    func stableFallback() -> RouteSnapshot.CompiledPool? {
        guard safeToRepeat, !retriedOnStable, let failed = currentPool, retryCanary == failed.name, let listener = currentListener() else { return nil }
        return listener.pools.first { $0.name != failed.name }
    }

    func retryOnStable(_ fallback: RouteSnapshot.CompiledPool, failed status: Int) {
        currentPool?.stats.end(status: status, loop: pool.index, startedAt: startedAt)
        stopResponseTimer()
        // The canary's answer (and whatever of its body came along) is dropped with its connection.
        upstreamReusable = false
        closeUpstream()
        responsePartial = nil
        setCookie = nil
        retriedOnStable = true
        currentPool = fallback
        tried.removeAll(keepingCapacity: true)
        retries = 0
        connectTimedOut = false
        fallback.stats.begin()
        connect(fresh: false)
    }
}
