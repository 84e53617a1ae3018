import NIOCore
import NIOHTTP1
import SlipwayCore

/// One client connection through the router. Each request is routed on the table current when its
/// head arrives (so a keep-alive client moves to the new pool at the next request), forwarded over a
/// pooled upstream connection, and streamed both ways with back-pressure.
final class ProxyHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    enum Phase { case idle, held, connecting, forwarding, responded, closed }

    let listenerName: String
    let state: RouteState
    let pools: UpstreamPools
    var pool: UpstreamPool!
    var context: ChannelHandlerContext!
    var clientIP = ""

    // The exchange in progress.
    var phase = Phase.idle
    var requestHead: HTTPRequestHead?
    var pending: [HTTPClientRequestPart] = []
    var upstream: UpstreamHandler?
    var currentPool: RouteSnapshot.CompiledPool?
    var tried: [Backend] = []
    var retries = 0
    var requestEnded = false
    var responseStarted = false
    var bodyBearing = false
    var clientKeepAlive = true
    var upstreamKeepAlive = true
    var status: Int?
    var requestId = ""
    /// While a paused listener holds the request: when it gets the maintenance page instead.
    var holdDeadline: NIODeadline?
    var holdTimer: Scheduled<Void>?
    /// The listener's timeouts, as of the table that routed the request.
    var timeouts = ListenerTable.Timeouts()
    var connectTimedOut = false
    var responseTimer: Scheduled<Void>?

    init(listenerName: String, state: RouteState, pools: UpstreamPools) {
        self.listenerName = listenerName
        self.state = state
        self.pools = pools
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        pool = pools.pool(for: context.eventLoop)
        clientIP = context.channel.remoteAddress?.ipAddress ?? ""
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            begin(head)
        case .body(let buffer):
            send(.body(.byteBuffer(buffer)))
        case .end(let trailers):
            requestEnded = true
            send(.end(trailers))
            if phase == .forwarding { startResponseTimer() }
            if phase == .responded { finishExchange() }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        upstream?.flush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let up = upstream {
            up.delegate = nil
            up.close()
            upstream = nil
        }
        if phase == .connecting || phase == .forwarding { currentPool?.stats.end(status: nil) }
        if phase == .held { endHold() }
        cancelResponseTimer()
        phase = .closed
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        upstream?.setAutoRead(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    /// The client sent nothing for `idle_timeout` between requests: close its connection.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, phase == .idle {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: Request side

    private func begin(_ head: HTTPRequestHead) {
        requestHead = head
        pending.removeAll(keepingCapacity: true)
        tried.removeAll(keepingCapacity: true)
        retries = 0
        requestEnded = false
        responseStarted = false
        status = nil
        clientKeepAlive = head.isKeepAlive
        upstreamKeepAlive = true
        bodyBearing = head.headers.contains(name: "transfer-encoding")
            || (head.headers.first(name: "content-length").flatMap { Int($0) } ?? 0) > 0
        requestId = head.headers.first(name: "x-request-id") ?? RequestID.next()

        var up = HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri)
        up.headers = HopByHop.stripped(head.headers)
        let forwardedFor = head.headers[canonicalForm: "x-forwarded-for"].map(String.init).joined(separator: ", ")
        up.headers.replaceOrAdd(name: "x-forwarded-for", value: forwardedFor.isEmpty ? clientIP : "\(forwardedFor), \(clientIP)")
        if !head.headers.contains(name: "x-forwarded-proto") { up.headers.add(name: "x-forwarded-proto", value: "http") }
        if let host = head.headers.first(name: "host"), !head.headers.contains(name: "x-forwarded-host") {
            up.headers.add(name: "x-forwarded-host", value: host)
        }
        if !head.headers.contains(name: "x-request-id") { up.headers.add(name: "x-request-id", value: requestId) }
        pending.append(.head(up))
        holdDeadline = nil
        route()
    }

    /// Sends the request to a pool of the current table, or answers for a listener in maintenance.
    func route() {
        let listener = state.snapshot.listeners[listenerName]
        if let listener, let m = listener.maintenance {
            switch m.mode {
            case .on:
                respondMaintenance(listener, m)
            case .paused:
                hold(listener, m)
            }
            return
        }
        guard let listener, let chosen = listener.pickPool() else {
            currentPool = nil
            respondError(.serviceUnavailable, "no release of '\(listenerName)' is serving yet")
            return
        }
        currentPool = chosen
        timeouts = listener.timeouts
        connectTimedOut = false
        chosen.stats.begin()
        connect(fresh: false)
    }

    private func send(_ part: HTTPClientRequestPart) {
        switch phase {
        case .forwarding:
            upstream?.write(part)
            if !bodyBearing { pending.append(part) }
        case .connecting, .held:
            pending.append(part)
        case .idle, .responded, .closed:
            break
        }
    }

    private func connect(fresh: Bool) {
        guard let chosen = currentPool, let backend = chosen.nextBackend(excluding: tried) else {
            if connectTimedOut {
                respondError(.gatewayTimeout, "no instance of release '\(currentPool?.name ?? "?")' accepted a connection within \(timeouts.connectMs) ms")
            } else {
                respondError(.badGateway, "no instance of release '\(currentPool?.name ?? "?")' accepted the request")
            }
            return
        }
        tried.append(backend)
        phase = .connecting
        pool.acquire(backend, fresh: fresh, connectTimeout: .milliseconds(timeouts.connectMs)) { [self] result in
            guard phase == .connecting else {
                if case .success(let h) = result { h.close() }
                return
            }
            switch result {
            case .success(let handler): attach(handler)
            case .failure(let error):
                chosen.stats.upstreamError()
                chosen.eject(backend)
                // Nothing reached an instance: the next one may take the request.
                if case ChannelError.connectTimeout = error { connectTimedOut = true }
                connect(fresh: true)
            }
        }
    }

    /// From the request fully sent until the response's head: past `response_timeout`, 504.
    private func startResponseTimer() {
        guard responseTimer == nil, !responseStarted else { return }
        let limit = timeouts.responseMs
        responseTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(limit)) { [self] in
            responseTimer = nil
            guard phase == .forwarding, !responseStarted else { return }
            currentPool?.stats.upstreamError()
            respondError(.gatewayTimeout, "the instance did not answer within \(limit) ms")
        }
    }

    func cancelResponseTimer() {
        responseTimer?.cancel()
        responseTimer = nil
    }

    private func attach(_ handler: UpstreamHandler) {
        upstream = handler
        handler.delegate = self
        phase = .forwarding
        for part in pending { handler.write(part) }
        handler.flush()
        if bodyBearing { pending.removeAll(keepingCapacity: true) }
        handler.setAutoRead(context.channel.isWritable)
        if requestEnded { startResponseTimer() }
    }

    // MARK: Response side

    func upstreamRead(_ part: HTTPClientResponsePart) {
        guard phase == .forwarding else { return }
        switch part {
        case .head(var head):
            cancelResponseTimer()
            responseStarted = true
            status = Int(head.status.code)
            upstreamKeepAlive = head.isKeepAlive
            head.headers = HopByHop.stripped(head.headers)
            head.version = requestHead?.version ?? .http1_1
            if !clientKeepAlive {
                head.headers.replaceOrAdd(name: "connection", value: "close")
            } else if head.version == .http1_0 {
                head.headers.replaceOrAdd(name: "connection", value: "keep-alive")
            }
            context.write(wrapOutboundOut(.head(head)), promise: nil)
        case .body(let buffer):
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .end(let trailers):
            currentPool?.stats.end(status: status)
            let up = upstream
            upstream = nil
            if let up {
                if requestEnded && upstreamKeepAlive { pool.release(up) } else { up.delegate = nil; up.close() }
            }
            if !requestEnded { clientKeepAlive = false }
            writeEnd(trailers)
        }
    }

    func upstreamClosed(_ handler: UpstreamHandler) {
        guard phase == .forwarding, upstream === handler else { return }
        upstream = nil
        cancelResponseTimer()
        if !responseStarted {
            currentPool?.stats.upstreamError()
            // Replay only what certainly never reached the app: a body-less request, at most twice.
            if !bodyBearing, requestEnded, retries < 2 {
                retries += 1
                tried.removeAll(keepingCapacity: true)
                connect(fresh: true)
            } else {
                respondError(.badGateway, "the instance closed the connection before answering")
            }
        } else {
            currentPool?.stats.end(status: nil)
            phase = .closed
            context.close(promise: nil)
        }
    }

    func upstreamWritabilityChanged(_ writable: Bool) {
        try? context.channel.syncOptions?.setOption(.autoRead, value: writable)
    }

    // MARK: Finishing

    private func writeEnd(_ trailers: HTTPHeaders?) {
        phase = .responded
        let keepAlive = clientKeepAlive
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: promise)
        if !keepAlive {
            let ctx = context!
            promise.futureResult.assumeIsolated().whenComplete { _ in ctx.close(promise: nil) }
        }
        if requestEnded { finishExchange() }
    }

    private func finishExchange() {
        phase = .idle
        requestHead = nil
        pending.removeAll(keepingCapacity: true)
        currentPool = nil
    }

    private func respondError(_ status: HTTPResponseStatus, _ message: String) {
        let body = "\(status.code) \(status.reasonPhrase): \(message) (request id \(requestId))\n"
        respond(status, body: ByteBuffer(string: body), contentType: "text/plain; charset=utf-8", retryAfter: status == .serviceUnavailable ? 1 : nil)
    }

    /// Answers the request from the router itself (an error or the maintenance page).
    func respond(_ status: HTTPResponseStatus, body: ByteBuffer, contentType: String, retryAfter: Int?) {
        if responseStarted {
            phase = .closed
            context.close(promise: nil)
            return
        }
        currentPool?.stats.end(status: Int(status.code))
        cancelResponseTimer()
        if let up = upstream { up.delegate = nil; up.close(); upstream = nil }
        var head = HTTPResponseHead(version: requestHead?.version ?? .http1_1, status: status)
        head.headers.add(name: "content-type", value: contentType)
        head.headers.add(name: "content-length", value: String(body.readableBytes))
        head.headers.add(name: "x-request-id", value: requestId)
        head.headers.add(name: "cache-control", value: "no-store")
        if let retryAfter { head.headers.add(name: "retry-after", value: String(retryAfter)) }
        // A body we did not read would be taken for the next request: close then. A body-less request's
        // end is just not read yet; the connection stays usable.
        if !requestEnded, bodyBearing { clientKeepAlive = false }
        if !clientKeepAlive { head.headers.add(name: "connection", value: "close") }
        responseStarted = true
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if requestHead?.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        writeEnd(nil)
    }
}
