import NIOCore
import NIOHTTP1
import SlipwayCore
import Synchronization

/// Choosing an instance, and everything that comes back from it.
extension ClientConnection {
    /// Sends the request to a pool of the current table, or answers for a listener in maintenance.
    func route() {
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
            respondError(.serviceUnavailable, "no release of '\(listenerName)' is serving yet")
            return
        }
        currentPool = chosen
        if !retriedOnStable { retryCanary = listener.retryCanary }
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
        phase = .connecting
        let exchange = requestNumber
        pool.connect(backend, timeout: .milliseconds(timeouts.connectMs), stats: chosen.stats) { [self] result in
            guard phase == .connecting, requestNumber == exchange else {
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
        phase = .forwarding
        if let head = requestHead { c.write(head) }
        if let body = pendingBody {
            c.write(body)
            pendingBody = nil
            block(.backlog, false)
        }
        c.flushSoon()
        c.setAutoRead(clientWritable)
        if requestBody.done { armResponseTimer(sentNow: false) }
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
            guard responseDeadline != 0, phase == .forwarding, !responseStarted else { return }
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
        guard phase == .forwarding else { return }
        var buf = buffer
        var head = HeadOutcome.sentBefore
        if !responseStarted {
            if var partial = responsePartial {
                partial.writeBuffer(&buf)
                buf = partial
                responsePartial = nil
            }
            head = readResponseHead(&buf)
            if head == .notReady { return }
        }
        var body = buf
        if case .passThrough(let length) = head { body.moveReaderIndex(forwardBy: length) }
        let used: Int
        do {
            used = try responseBody.advance(body)
        } catch {
            abortResponse(upstreamFailed: true)
            return
        }
        switch head {
        case .passThrough(let length):
            // The head needs no change: it goes on as received, with the body bytes that came with it.
            context.write(wrapOutboundOut(buf.readSlice(length: length + used)!), promise: nil)
        case .rewritten:
            // A small body travels in the head's buffer: one write, one iovec.
            if used > 0 && used <= Self.inlineBody {
                var part = buf.readSlice(length: used)!
                responseScratch.writeBuffer(&part)
                context.write(wrapOutboundOut(responseScratch), promise: nil)
            } else {
                context.write(wrapOutboundOut(responseScratch), promise: nil)
                if used > 0 { context.write(wrapOutboundOut(buf.readSlice(length: used)!), promise: nil) }
            }
        case .sentBefore, .notReady:
            if used > 0 { context.write(wrapOutboundOut(buf.readSlice(length: used)!), promise: nil) }
        }
        if responseBody.done { responseEnded(leftover: buf.readableBytes > 0) }
    }

    /// What reading the response head gave: not all of it yet, a head sent with an earlier read, a head
    /// rewritten into `responseScratch`, or one that goes on unchanged (its length).
    enum HeadOutcome: Equatable { case notReady, sentBefore, rewritten, passThrough(Int) }

    static var inlineBody: Int { 4096 }

    /// Reads the response head from `buf` (skipping interim 1xx answers, which go on as they are) and
    /// rewrites it for the client into `responseScratch` unless it can go on unchanged.
    private func readResponseHead(_ buf: inout ByteBuffer) -> HeadOutcome {
        while true {
            let outcome = buf.withUnsafeReadableBytes { scanner.scan($0, request: false) }
            switch outcome {
            case .incomplete:
                responsePartial = buf
                return .notReady
            case .invalid(let problem):
                currentPool?.stats.upstreamError(loop: pool.index)
                upstreamReusable = false
                respondError(.badGateway, "the instance's answer is not HTTP/1.1 (\(problem))")
                return .notReady
            case .complete:
                break
            }
            let head = scanner.head
            if head.status >= 500, let fallback = stableFallback() {
                retryOnStable(fallback, failed: head.status)
                return .notReady
            }
            if head.status == 101 {
                guard wantsUpgrade else {
                    currentPool?.stats.upstreamError(loop: pool.index)
                    upstreamReusable = false
                    respondError(.badGateway, "the instance switched protocols on a request that did not ask to")
                    return .notReady
                }
                startTunnel(&buf)
                return .notReady
            }
            if head.status < 200 {
                context.write(wrapOutboundOut(buf.readSlice(length: head.length)!), promise: nil)
                continue
            }
            responseDeadline = 0
            responseStarted = true
            status = head.status
            if state.draining.load(ordering: .relaxed) { clientKeepAlive = false }
            upstreamReusable = head.keepAlive
            if isHEAD || head.status == 204 || head.status == 304 {
                responseBody = .empty
            } else if head.chunked {
                responseBody = BodyFraming(.chunked)
            } else if let n = head.contentLength, !head.transferEncoding {
                responseBody = BodyFraming(.length, length: n)
            } else {
                // Only the instance closing ends this body: neither connection can be kept.
                responseBody = BodyFraming(.untilClose)
                upstreamReusable = false
                clientKeepAlive = false
            }
            if setCookie == nil && clientKeepAlive && !clientHTTP10 && scanner.head.unchangedForClient { return .passThrough(head.length) }
            let inline = min(buf.readableBytes - head.length, Self.inlineBody)
            responseScratch.clear(minimumCapacity: head.length + 32 + (setCookie?.utf8.count ?? 0) + inline)
            buf.withUnsafeReadableBytes {
                scanner.writeResponse($0, into: &responseScratch, clientKeepAlive: clientKeepAlive, clientHTTP10: clientHTTP10, extra: setCookie)
            }
            buf.moveReaderIndex(forwardBy: head.length)
            return .rewritten
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
        switch phase {
        case .tunnel:
            closeAfterWrites()
        case .forwarding:
            if responseStarted && responseBody.mode == .untilClose {
                responseEnded(leftover: false)
            } else if responseStarted {
                abortResponse(upstreamFailed: true)
            } else {
                stopResponseTimer()
                currentPool?.stats.upstreamError(loop: pool.index)
                // Replay only what certainly never reached the app: a body-less request with no answer yet, at most twice.
                if requestBody.mode == .none, responsePartial == nil, retries < 2 {
                    retries += 1
                    tried.removeAll(keepingCapacity: true)
                    connect(fresh: true)
                } else {
                    respondError(.badGateway, "the instance closed the connection before answering")
                }
            }
        default:
            break
        }
    }

    /// The response broke off midway (the instance's fault, or the router's own answer came too late):
    /// the client cannot be told otherwise than by closing.
    func abortResponse(upstreamFailed: Bool) {
        if upstreamFailed { currentPool?.stats.upstreamError(loop: pool.index) }
        currentPool?.stats.end(status: nil, loop: pool.index, startedAt: startedAt)
        currentPool = nil
        closeUpstream()
        phase = .closed
        context.flush()
        context.close(promise: nil)
    }

    func responseEnded(leftover: Bool) {
        let now = NIODeadline.now().uptimeNanoseconds
        idleSince = now
        currentPool?.stats.end(status: status, loop: pool.index, startedAt: startedAt, now: now)
        if requestBody.done && upstreamReusable && !leftover, let up = upstream {
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
        requestHead = nil
        pendingBody = nil
        if !requestBody.done { clientKeepAlive = false }
        guard clientKeepAlive else {
            closeAfterWrites()
            return
        }
        flushSoon()
        phase = .idle
        block(.backlog, false)
        // The upstream connection that made reading stop is gone (pooled or closed).
        block(.upstreamFull, false)
        process()
    }

    func closeAfterWrites() {
        phase = .closed
        inbound = nil
        let ctx = context!
        let done = ctx.eventLoop.makePromise(of: Void.self)
        ctx.writeAndFlush(wrapOutboundOut(ByteBuffer()), promise: done)
        done.futureResult.assumeIsolated().whenComplete { _ in ctx.close(promise: nil) }
    }

    /// `101 Switching Protocols` to an upgrade request: from here on, bytes both ways, unread.
    private func startTunnel(_ buf: inout ByteBuffer) {
        stopResponseTimer()
        status = 101
        currentPool?.stats.end(status: 101, loop: pool.index, startedAt: startedAt)
        currentPool = nil
        var out = context.channel.allocator.buffer(capacity: scanner.head.length + 32)
        buf.withUnsafeReadableBytes { scanner.writeResponse($0, into: &out, clientKeepAlive: true, clientHTTP10: false) }
        buf.moveReaderIndex(forwardBy: scanner.head.length)
        context.write(wrapOutboundOut(out), promise: nil)
        if buf.readableBytes > 0 { context.write(wrapOutboundOut(buf), promise: nil) }
        context.flush()
        phase = .tunnel
        if let early = inbound, early.readableBytes > 0 { upstream?.writeAndFlush(early) }
        inbound = nil
        block(.backlog, false)
    }
}
