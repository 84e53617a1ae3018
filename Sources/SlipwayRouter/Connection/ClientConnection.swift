import NIOCore
import NIOHTTP1
import SlipwayCore
import Synchronization

/// One client connection through the router. Its HTTP/1.1 protocol state is an `ExchangeMachine`
/// value; this handler carries out what the machine answers: it picks a pool of the table current at
/// that moment, takes a pooled keep-alive connection to an instance (or opens one), writes, flushes,
/// stops and resumes reading, keeps the timers (idle, response, hold) and the pools' figures. After a
/// `101 Switching Protocols` the connection becomes a plain two-way tunnel.
final class ClientConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Why the client socket is not being read (reading resumes when none is left).
    struct ReadBlock: OptionSet {
        let rawValue: UInt8
        static let backlog = ReadBlock(rawValue: 1)
        static let upstreamFull = ReadBlock(rawValue: 2)
        static let held = ReadBlock(rawValue: 4)
    }

    /// The address the client connected to: its listeners are picked from per request.
    let address: ListenAddress
    let state: RouteState
    /// Its event loop's pool of upstream connections.
    let pool: UpstreamPool
    /// Its channel's context: set when the handler is added, before any event.
    var context: ChannelHandlerContext!
    var machine = ExchangeMachine(clientIP: [])
    var readBlocks = ReadBlock()
    /// Client bytes were written to the upstream since its last flush.
    var upstreamUnflushed = false
    /// The flush batch of its event loop this connection last joined (see `UpstreamPool.flushSoon`).
    var flushBatch: UInt64 = 0
    /// The client socket takes more bytes (kept from writability changes: no channel lookup per request).
    var clientWritable = true
    /// Set while `process()` runs, so an exchange that ends inside it does not start another one.
    var processing = false

    // Routing of the request in progress.
    var startedAt: UInt64 = 0
    var upstream: UpstreamConnection?
    var currentPool: RouteSnapshot.CompiledPool?
    var tried: [Backend] = []
    var connectTimedOut = false
    /// The client's sticky cookie or header value (only read while a sticky listener has several pools).
    var sticky: String?
    /// A `Set-Cookie` line the response gets: the client was just given its pool.
    var setCookie: String?
    /// The canary pool whose 5xx this request may be retried after, as the table said when it was routed
    /// (a request in flight when the canary is removed still gets its retry).
    var retryCanary: String?
    var timeouts = ListenerTable.Timeouts()
    var holdDeadline: NIODeadline?
    var holdTimer: Scheduled<Void>?
    /// The listener the request in progress was routed to, as of `listenerVersion` of the route state.
    var listener: RouteSnapshot.CompiledListener?
    var listenerVersion = -1
    /// The address's listeners as of `addressVersion` of the route state.
    var routes: RouteSnapshot.Address?
    var addressVersion = -1
    /// The request in progress matched no route of a shared address (a 404), rather than meeting an empty table.
    var unrouted = false
    /// The request asks for an ACME HTTP-01 token the router is publishing: its key authorization.
    var challengeAnswer: String?
    /// Since when (uptime ns) the connection has waited for a request; closed past `idle_timeout`.
    var idleSince: UInt64 = 0
    var idleTimer: Scheduled<Void>?
    /// While a sent request waits for its response's head: the uptime (ns) past which it is a 504.
    var responseDeadline: UInt64 = 0
    var responseTimer: Scheduled<Void>?

    /// The client's address as `X-Forwarded-For` gives it; an HTTP/2 stream's is its connection's, read once
    /// for all its streams (nil: read from the channel when the handler is added).
    let clientIP: [UInt8]?
    /// An HTTP/2 stream: it carries one exchange and ends with it, so it keeps no idle timer.
    var isStream: Bool { clientIP != nil }

    init(address: ListenAddress, state: RouteState, pool: UpstreamPool, streamOf clientIP: [UInt8]? = nil) {
        self.address = address
        self.state = state
        self.pool = pool
        self.clientIP = clientIP
        tried.reserveCapacity(4)
    }

    var phase: ExchangeMachine.Phase { machine.phase }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        pool.register(self)
        machine = ExchangeMachine(clientIP: clientIP ?? Self.ipBytes(context.channel))
        idleSince = NIODeadline.now().uptimeNanoseconds
        if !isStream { scheduleIdleCheck(at: idleSince + idleLimitNs) }
    }

    /// The request's listener from the current table (re-read by name only after a swap: a request held
    /// across a swap never lands on another environment of a shared address); before a request has picked
    /// one, the address's first.
    func currentListener() -> RouteSnapshot.CompiledListener? {
        let v = state.version.load(ordering: .acquiring)
        if v != listenerVersion {
            if let name = listener?.name { listener = currentRoutes()?.named(name) } else { listener = currentRoutes()?.first }
            listenerVersion = v
        }
        return listener
    }

    /// The address's listeners from the current table (re-read only after a swap).
    func currentRoutes() -> RouteSnapshot.Address? {
        let v = state.version.load(ordering: .acquiring)
        if v != addressVersion {
            routes = state.snapshot.addresses[address]
            addressVersion = v
        }
        return routes
    }

    /// Picks the listener of a request whose head is complete: the address's only one, or by its host and
    /// path when environments share the address.
    func select(host: () -> String?, target: () -> String) -> ExchangeMachine.Selection? {
        unrouted = false
        challengeAnswer = nil
        if state.challenges.pendingHTTP.load(ordering: .relaxed) > 0 {
            let t = target()
            if t.hasPrefix(RouterTLS.acmeChallengePrefix) { challengeAnswer = state.challenges.http01(token: t.dropFirst(RouterTLS.acmeChallengePrefix.count), host: host()) }
        }
        guard let routes = currentRoutes() else {
            listener = nil
            return nil
        }
        listenerVersion = addressVersion
        if let only = routes.only {
            // The address is one environment's: nothing in the request needs reading.
            listener = only
            return (only, nil)
        }
        let chosen = routes.select(host: host()) { Substring(target()) }
        listener = chosen?.listener
        unrouted = chosen == nil
        return chosen
    }

    var draining: Bool { state.draining.load(ordering: .relaxed) }

    /// The listener's `idle_timeout`, in nanoseconds.
    private var idleLimitNs: UInt64 { UInt64(currentListener()?.timeouts.idleMs ?? ListenerTable.Timeouts().idleMs) * 1_000_000 }

    /// The client sent nothing for `idle_timeout` between requests: close its connection. One timer per
    /// connection, moved on lazily rather than re-armed for every request.
    private func scheduleIdleCheck(at deadline: UInt64) {
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(deadline)) { [self] in
            idleTimer = nil
            guard phase != .closed else { return }
            // While draining, an idle connection goes after `drainIdleNs` (or its own idle limit, if shorter).
            let limit = draining ? min(idleLimitNs, Self.drainIdleNs) : idleLimitNs
            let now = NIODeadline.now().uptimeNanoseconds
            if phase == .idle && now >= idleSince + limit {
                machine.close()
                context.close(promise: nil)
            } else {
                scheduleIdleCheck(at: (phase == .idle ? idleSince : now) + limit)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let tunnelled = machine.clientRead(unwrapInboundIn(data)) {
            upstream?.write(tunnelled)
            upstreamUnflushed = true
            return
        }
        process()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if upstreamUnflushed {
            upstreamUnflushed = false
            upstream?.flushSoon()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closeUpstream()
        let was = machine.clientClosed()
        if was == .connecting || was == .forwarding { currentPool?.stats.end(status: nil, loop: pool.index, startedAt: startedAt) }
        if was == .held { endHold() }
        stopResponseTimer()
        idleTimer?.cancel()
        idleTimer = nil
        pool.unregister(self)
        context.fireChannelInactive()
    }

    /// The pipeline lets go of this handler: so does this handler of its context. (A context holds its handler
    /// strongly; kept here too, the pair would keep each other, the channel and its pipeline alive for good:
    /// about 3 KB leaked per client connection, and per HTTP/2 stream.)
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Lets go of the upstream connection without reusing it (its exchange did not end cleanly).
    func closeUpstream() {
        guard let up = upstream else { return }
        upstream = nil
        up.owner = nil
        up.close()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        clientWritable = context.channel.isWritable
        upstream?.setAutoRead(clientWritable)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// While draining, an idle connection is closed once it has been idle this long (a client that is
    /// busy gets `Connection: close` on its next response instead).
    static let drainIdleNs: UInt64 = 500_000_000

    static func ipBytes(_ channel: any Channel) -> [UInt8] {
        Array((channel.remoteAddress?.ipAddress ?? "").utf8)
    }

    /// The router is handing over: look again soon rather than at the idle timeout (an HTTP/2 stream ends
    /// with its exchange).
    func drain() {
        guard phase != .closed, !isStream else { return }
        idleTimer?.cancel()
        scheduleIdleCheck(at: NIODeadline.now().uptimeNanoseconds + Self.drainIdleNs / 5)
    }

    func block(_ reason: ReadBlock, _ on: Bool) {
        let before = readBlocks.isEmpty
        if on { readBlocks.insert(reason) } else { readBlocks.remove(reason) }
        if before != readBlocks.isEmpty {
            try? context.channel.syncOptions?.setOption(.autoRead, value: readBlocks.isEmpty)
            // An HTTP/2 stream's channel does not read again by itself when autoRead comes back on (a socket's
            // does); asking once more is harmless for a socket.
            if readBlocks.isEmpty { context.read() }
        }
    }

    // MARK: Request side

    /// Carries out what the machine makes of the client's bytes: the next head, body bytes, or
    /// (pipelined) nothing until the current exchange is over.
    func process() {
        guard !processing else { return }
        processing = true
        defer { processing = false }
        while true {
            switch machine.nextClientAction(select: select) {
            case .wait:
                return
            case .pipelined(let overLimit):
                block(.backlog, overLimit)
                return
            case .route(let sticky):
                startedAt = NIODeadline.now().uptimeNanoseconds
                self.sticky = sticky
                tried.removeAll(keepingCapacity: true)
                holdDeadline = nil
                route()
            case .badRequest(let problem):
                respondError(.badRequest, problem)
                machine.close()
            case .forward(let body, let complete):
                upstream?.write(body)
                upstreamUnflushed = true
                if complete { armResponseTimer(sentNow: true) }
            case .buffered(let overLimit):
                block(.backlog, overLimit)
            case .tunnel(let bytes):
                upstream?.write(bytes)
                upstreamUnflushed = true
            }
        }
    }
}
