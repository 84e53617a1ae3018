import NIOCore
import NIOHTTP1
import SlipwayCore
import Synchronization

/// Choosing an instance, and everything that comes back from it.
extension ClientConnection {
    /// Sends the request to a pool of the current table, or answers for a listener in maintenance.
    func route() {
        if let answer = challengeAnswer {
            // RFC 8555 §8.3: the key authorization, as the body of a 200 (never redirected: the CA asks over HTTP).
            currentPool = nil
            respond(.ok, body: ByteBuffer(string: answer), contentType: "application/octet-stream", retryAfter: nil)
            return
        }
        if let location = machine.request.redirect {
            respondRedirect(location)
            return
        }
        let listener = currentListener()
        if let listener, let m = listener.maintenance {
            switch m.mode {
            case .on: respondMaintenance(listener, m)
            case .paused: hold(listener, m)
            }
            return
        }
        setCookie = nil
        let picked: RouteSnapshot.CompiledPool?
        if let listener, listener.sticky != nil, let (p, assigned) = listener.pickPool(sticky: sticky) {
            picked = p
            if assigned { setCookie = Self.stickyCookie(listener, pool: p.name) }
        } else {
            picked = listener?.pickPool()
        }
        guard let listener, let chosen = picked else {
            currentPool = nil
            if unrouted {
                // Names nothing internal: the client learns only that nothing is served at this host and path.
                respondError(.notFound, "nothing is served at this address for this host and path")
            } else {
                respondError(.serviceUnavailable, "no release of '\(listener?.name ?? "\(address)")' is serving yet")
            }
            return
        }
        currentPool = chosen
        if !machine.request.retriedOnStable { retryCanary = listener.retryCanary }
        timeouts = listener.timeouts
        connectTimedOut = false
        chosen.stats.begin()
        connect(fresh: false)
    }

    /// An instance not tried yet for this request: a pooled connection to it, or a new one.
    func connect(fresh: Bool) {
        guard let chosen = currentPool, let backend = chosen.nextBackend(excluding: tried) else {
            if connectTimedOut {
                respondError(.gatewayTimeout, "no instance of release '\(currentPool?.name ?? "?")' accepted a connection within \(timeouts.connectMs) ms")
            } else {
                respondError(.badGateway, "no instance of release '\(currentPool?.name ?? "?")' accepted the request")
            }
            return
        }
        tried.append(backend)
        if !fresh, let c = pool.takeIdle(backend) {
            attach(c)
            return
        }
        machine.connecting()
        let exchange = machine.request.number
        pool.connect(backend, timeout: .milliseconds(timeouts.connectMs), stats: chosen.stats) { [self] result in
            guard phase == .connecting, machine.request.number == exchange else {
                if case .success(let c) = result { c.close() }
                return
            }
            switch result {
            case .success(let c):
                attach(c)
            case .failure(let error):
                chosen.stats.upstreamError(loop: pool.index)
                chosen.eject(backend)
                // Nothing reached an instance: the next one may take the request.
                if case ChannelError.connectTimeout = error { connectTimedOut = true }
                connect(fresh: true)
            }
        }
    }

    private func attach(_ c: UpstreamConnection) {
        upstream = c
        c.owner = self
        let (head, body, complete) = machine.attach()
        if let head { c.write(head) }
        if let body {
            c.write(body)
            block(.backlog, false)
        }
        c.flushSoon()
        c.setAutoRead(clientWritable)
        if complete { armResponseTimer(sentNow: false) }
    }

    // MARK: Response timeout

    /// From the request fully sent until the response's head: past `response_timeout`, 504. One timer per
    /// connection at most, moved on lazily, so a request costs no timer of its own.
    func armResponseTimer(sentNow: Bool) {
        let from = sentNow ? NIODeadline.now().uptimeNanoseconds : startedAt
        responseDeadline = from + UInt64(timeouts.responseMs) * 1_000_000
        guard responseTimer == nil else { return }
        scheduleResponseTimer()
    }

    private func scheduleResponseTimer() {
        responseTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: NIODeadline.uptimeNanoseconds(responseDeadline)) { [self] in
            responseTimer = nil
            guard responseDeadline != 0, machine.awaitingResponse else { return }
            if NIODeadline.now().uptimeNanoseconds < responseDeadline {
                scheduleResponseTimer()
                return
            }
            currentPool?.stats.upstreamError(loop: pool.index)
            respondError(.gatewayTimeout, "the instance did not answer within \(timeouts.responseMs) ms")
        }
    }

    /// Cancels the response timer (when the connection closes; between requests it is left to lapse).
    func stopResponseTimer() {
        responseDeadline = 0
        responseTimer?.cancel()
        responseTimer = nil
    }

    // MARK: Response side

    func upstreamRead(_ buffer: ByteBuffer) {
        if phase == .tunnel {
            context.write(wrapOutboundOut(buffer), promise: nil)
            return
        }
        // Header lines the router adds: a sticky cookie just assigned, HSTS on an HTTPS listener.
        let extra = listener?.hstsLine.map { (setCookie ?? "") + $0 } ?? setCookie
        var action = machine.responseRead(buffer, draining: draining, extra: extra) { stableFallback() != nil }
        while case .interim(let head) = action {
            context.write(wrapOutboundOut(head), promise: nil)
            action = machine.responseRead(ByteBuffer(), draining: draining, extra: extra) { stableFallback() != nil }
        }
        switch action {
        case .wait, .interim:
            return
        case .send(let first, let second, let ended, let leftover):
            responseDeadline = 0
            if first.readableBytes > 0 { context.write(wrapOutboundOut(first), promise: nil) }
            if let second { context.write(wrapOutboundOut(second), promise: nil) }
            if ended { responseEnded(leftover: leftover) }
        case .badGateway(let problem):
            currentPool?.stats.upstreamError(loop: pool.index)
            respondError(.badGateway, problem)
        case .retryOnStable(let status):
            if let fallback = stableFallback() { retryOnStable(fallback, failed: status) }
        case .upgrade(let head, let rest, let early):
            stopResponseTimer()
            currentPool?.stats.end(status: 101, loop: pool.index, startedAt: startedAt)
            currentPool = nil
            context.write(wrapOutboundOut(head), promise: nil)
            if let rest { context.write(wrapOutboundOut(rest), promise: nil) }
            context.flush()
            if let early { upstream?.writeAndFlush(early) }
            block(.backlog, false)
        case .abort:
            abortResponse(upstreamFailed: true)
        }
    }

    func upstreamReadComplete() {
        flushSoon()
    }

    /// Flush at the end of this turn of the event loop (once, however often it is asked).
    func flushSoon() {
        pool.flushSoon(context, joined: &flushBatch)
    }

    func upstreamWritabilityChanged(_ writable: Bool) {
        block(.upstreamFull, !writable)
    }

    func upstreamClosed(_ c: UpstreamConnection) {
        guard upstream === c else { return }
        upstream = nil
        switch machine.upstreamClosed() {
        case .none:
            break
        case .closeClient:
            closeAfterWrites()
        case .ended:
            responseEnded(leftover: false)
        case .abort:
            abortResponse(upstreamFailed: true)
        case .replay:
            stopResponseTimer()
            currentPool?.stats.upstreamError(loop: pool.index)
            tried.removeAll(keepingCapacity: true)
            connect(fresh: true)
        case .badGateway(let problem):
            stopResponseTimer()
            currentPool?.stats.upstreamError(loop: pool.index)
            respondError(.badGateway, problem)
        }
    }

    /// The response broke off midway (the instance's fault, or the router's own answer came too late):
    /// the client cannot be told otherwise than by closing.
    func abortResponse(upstreamFailed: Bool) {
        if upstreamFailed { currentPool?.stats.upstreamError(loop: pool.index) }
        currentPool?.stats.end(status: nil, loop: pool.index, startedAt: startedAt)
        currentPool = nil
        closeUpstream()
        machine.close()
        context.flush()
        context.close(promise: nil)
    }

    func responseEnded(leftover: Bool) {
        let now = NIODeadline.now().uptimeNanoseconds
        idleSince = now
        currentPool?.stats.end(status: machine.response.status, loop: pool.index, startedAt: startedAt, now: now)
        if machine.upstreamReusable(leftover: leftover), let up = upstream {
            upstream = nil
            pool.release(up)
        } else {
            closeUpstream()
        }
        finishExchange()
    }

    /// The response is written: flush it, then take the next request or close.
    func finishExchange() {
        responseDeadline = 0
        currentPool = nil
        guard machine.finishExchange() else {
            closeAfterWrites()
            return
        }
        flushSoon()
        block(.backlog, false)
        // The upstream connection that made reading stop is gone (pooled or closed).
        block(.upstreamFull, false)
        process()
    }

    func closeAfterWrites() {
        machine.close()
        let ctx = context!
        if isStream {
            // An HTTP/2 stream's frames reach its connection at the flush and leave it at the connection's own
            // flush, later in this turn of the loop (`FlushCoalescer`); closing the stream before that would reset
            // it and drop them. Closed after it, a stream whose request was read to its end is over already, and
            // one whose client is still sending is reset.
            ctx.flush()
            ctx.eventLoop.assumeIsolated().execute { ctx.close(promise: nil) }
            return
        }
        let done = ctx.eventLoop.makePromise(of: Void.self)
        ctx.writeAndFlush(wrapOutboundOut(ByteBuffer()), promise: done)
        done.futureResult.assumeIsolated().whenComplete { _ in ctx.close(promise: nil) }
    }
}
