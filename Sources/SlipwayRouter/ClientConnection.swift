import NIOCore
import NIOHTTP1
import SlipwayCore
import Synchronization

/// One client connection through the router, handled as bytes. For each request only the head is
/// scanned (routing and framing); the head goes on with the proxy's headers spliced in and the body
/// goes on as it arrives, over a pooled keep-alive connection to an instance of the pool the table
/// current at that moment picks. Responses come back the same way, framed by scanning. After a
/// `101 Switching Protocols` the connection becomes a plain two-way tunnel.
final class ClientConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase { case idle, held, connecting, forwarding, tunnel, closed }

    /// Why the client socket is not being read (reading resumes when none is left).
    struct ReadBlock: OptionSet {
        let rawValue: UInt8
        static let backlog = ReadBlock(rawValue: 1)
        static let upstreamFull = ReadBlock(rawValue: 2)
        static let held = ReadBlock(rawValue: 4)
    }

    static let maxBuffered = 256 * 1024

    let listenerName: String
    let state: RouteState
    let pools: UpstreamPools
    var pool: UpstreamPool!
    var context: ChannelHandlerContext!
    var clientIP: [UInt8] = []
    var scanner = HeadScanner()
    /// Client bytes not handled yet: a partial head, or pipelined requests waiting their turn.
    var inbound: ByteBuffer?
    var phase = Phase.idle
    var readBlocks = ReadBlock()
    /// Client bytes were written to the upstream since its last flush.
    var upstreamUnflushed = false
    /// The flush batch of its event loop this connection last joined (see `UpstreamPool.flushSoon`).
    var flushBatch: UInt64 = 0
    /// The client socket takes more bytes (kept from writability changes: no channel lookup per request).
    var clientWritable = true
    /// Set while `process()` runs, so an exchange that ends inside it does not start another one.
    var processing = false

    // The request in progress.
    var requestHead: ByteBuffer?
    /// Heads are assembled in these and reused once the socket has taken them (no allocation per request).
    var requestScratch = ByteBuffer()
    var responseScratch = ByteBuffer()
    var pendingBody: ByteBuffer?
    var requestBody = BodyFraming.empty
    var requestNumber: UInt64 = 0
    var clientRequestId: String?
    var isHEAD = false
    var clientHTTP10 = false
    var clientKeepAlive = true
    var wantsUpgrade = false
    var startedAt: UInt64 = 0
    var upstream: UpstreamConnection?
    var currentPool: RouteSnapshot.CompiledPool?
    var tried: [Backend] = []
    var retries = 0
    var connectTimedOut = false
    /// The client's sticky cookie or header value (only read while a sticky listener has several pools).
    var sticky: String?
    /// A `Set-Cookie` line the response gets: the client was just given its pool.
    var setCookie: String?
    /// A body-less GET or HEAD (it may be sent again: to the stable release after a canary's 5xx).
    var safeToRepeat = false
    var retriedOnStable = false
    /// The canary pool whose 5xx this request may be retried after, as the table said when it was routed
    /// (a request in flight when the canary is removed still gets its retry).
    var retryCanary: String?
    var timeouts = ListenerTable.Timeouts()
    var holdDeadline: NIODeadline?
    var holdTimer: Scheduled<Void>?
    /// The listener as of `listenerVersion` of the route state.
    var listener: RouteSnapshot.CompiledListener?
    var listenerVersion = -1
    /// Since when (uptime ns) the connection has waited for a request; closed past `idle_timeout`.
    var idleSince: UInt64 = 0
    var idleTimer: Scheduled<Void>?

    // Its response.
    var responsePartial: ByteBuffer?
    var responseStarted = false
    var responseBody = BodyFraming.empty
    var status = 0
    var upstreamReusable = true
    /// While a sent request waits for its response's head: the uptime (ns) past which it is a 504.
    var responseDeadline: UInt64 = 0
    var responseTimer: Scheduled<Void>?

    init(listenerName: String, state: RouteState, pools: UpstreamPools) {
        self.listenerName = listenerName
        self.state = state
        self.pools = pools
        tried.reserveCapacity(4)
    }

    var requestId: String { clientRequestId ?? RequestID.string(requestNumber) }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        pool = pools.pool(for: context.eventLoop)
        pool.register(self)
        clientIP = Array((context.channel.remoteAddress?.ipAddress ?? "").utf8)
        idleSince = NIODeadline.now().uptimeNanoseconds
        scheduleIdleCheck(at: idleSince + idleLimitNs)
    }

    /// The listener's compiled view from the current table (re-read only after a swap).
    func currentListener() -> RouteSnapshot.CompiledListener? {
        let v = state.version.load(ordering: .acquiring)
        if v != listenerVersion {
            listener = state.snapshot.listeners[listenerName]
            listenerVersion = v
        }
        return listener
    }

    /// The listener's `idle_timeout`, in nanoseconds.
    private var idleLimitNs: UInt64 { UInt64(currentListener()?.timeouts.idleMs ?? ListenerTable.Timeouts().idleMs) * 1_000_000 }

    /// The client sent nothing for `idle_timeout` between requests: close its connection. One timer per
    /// connection, moved on lazily rather than re-armed for every request.
    private func scheduleIdleCheck(at deadline: UInt64) {
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(deadline)) { [self] in
            idleTimer = nil
            guard phase != .closed else { return }
            // While draining, an idle connection goes after `drainIdleNs` (or its own idle limit, if shorter).
            let limit = state.draining.load(ordering: .relaxed) ? min(idleLimitNs, Self.drainIdleNs) : idleLimitNs
            let now = NIODeadline.now().uptimeNanoseconds
            if phase == .idle && now >= idleSince + limit {
                phase = .closed
                context.close(promise: nil)
            } else {
                scheduleIdleCheck(at: (phase == .idle ? idleSince : now) + limit)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if phase == .tunnel {
            upstream?.write(buffer)
            upstreamUnflushed = true
            return
        }
        if inbound == nil { inbound = buffer } else { inbound!.writeBuffer(&buffer) }
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
        if phase == .connecting || phase == .forwarding { currentPool?.stats.end(status: nil, loop: pool.index, startedAt: startedAt) }
        if phase == .held { endHold() }
        stopResponseTimer()
        idleTimer?.cancel()
        idleTimer = nil
        pool.unregister(self)
        phase = .closed
        inbound = nil
        context.fireChannelInactive()
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

    /// The router is handing over: look again soon rather than at the idle timeout.
    func drain() {
        guard phase != .closed else { return }
        idleTimer?.cancel()
        scheduleIdleCheck(at: NIODeadline.now().uptimeNanoseconds + Self.drainIdleNs / 5)
    }

    func block(_ reason: ReadBlock, _ on: Bool) {
        let before = readBlocks.isEmpty
        if on { readBlocks.insert(reason) } else { readBlocks.remove(reason) }
        if before != readBlocks.isEmpty {
            try? context.channel.syncOptions?.setOption(.autoRead, value: readBlocks.isEmpty)
        }
    }

    // MARK: Request side

    /// Handles what the client sent: the next head, body bytes, or (pipelined) nothing until the
    /// current exchange is over.
    func process() {
        guard !processing else { return }
        processing = true
        defer { processing = false }
        while let buffered = inbound, buffered.readableBytes > 0 {
            switch phase {
            case .idle:
                guard beginRequest(buffered) else { return }
            case .held, .connecting, .forwarding:
                if requestBody.done {
                    block(.backlog, buffered.readableBytes > Self.maxBuffered)
                    return
                }
                forwardBody(buffered)
            case .tunnel:
                upstream?.write(buffered)
                upstreamUnflushed = true
                inbound = nil
            case .closed:
                inbound = nil
            }
        }
        inbound = nil
    }

    private func beginRequest(_ buffered: ByteBuffer) -> Bool {
        let outcome = buffered.withUnsafeReadableBytes { scanner.scan($0, request: true) }
        switch outcome {
        case .incomplete:
            return false
        case .invalid(let problem):
            requestNumber = RequestID.next()
            clientRequestId = nil
            isHEAD = false
            clientKeepAlive = false
            requestBody = .empty
            respondError(.badRequest, problem)
            phase = .closed
            inbound = nil
            return false
        case .complete:
            break
        }
        let head = scanner.head
        if let l = currentListener(), l.sticky != nil {
            sticky = buffered.withUnsafeReadableBytes { stickyValue($0, l) }
        } else {
            sticky = nil
        }
        startedAt = NIODeadline.now().uptimeNanoseconds
        requestNumber = RequestID.next()
        clientRequestId = head.requestId.map { index in buffered.withUnsafeReadableBytes { scanner.value($0, index) } }
        isHEAD = head.isHEAD
        safeToRepeat = (head.isGET || head.isHEAD) && !head.chunked && (head.contentLength ?? 0) == 0
        retriedOnStable = false
        clientHTTP10 = head.http10
        clientKeepAlive = head.keepAlive
        wantsUpgrade = head.wantsUpgrade
        requestScratch.clear(minimumCapacity: head.length + scanner.requestGrowth(clientIP: clientIP))
        let adds = currentListener()?.requestHeaders ?? .all
        buffered.withUnsafeReadableBytes {
            scanner.writeRequest($0, into: &requestScratch, clientIP: clientIP, requestNumber: requestNumber, adds: adds)
        }
        requestHead = requestScratch
        var rest = buffered
        rest.moveReaderIndex(forwardBy: head.length)
        inbound = rest
        requestBody = head.chunked ? BodyFraming(.chunked) : BodyFraming(.length, length: head.contentLength ?? 0)
        tried.removeAll(keepingCapacity: true)
        retries = 0
        responseStarted = false
        responsePartial = nil
        status = 0
        holdDeadline = nil
        route()
        return true
    }

    private func forwardBody(_ buffered: ByteBuffer) {
        var buf = buffered
        let used: Int
        do {
            used = try requestBody.advance(buf)
        } catch {
            clientKeepAlive = false
            respondError(.badRequest, "the chunked request body is malformed")
            phase = .closed
            inbound = nil
            return
        }
        let body = buf.readSlice(length: used)!
        inbound = buf
        if phase == .forwarding {
            upstream?.write(body)
            upstreamUnflushed = true
        } else {
            if pendingBody == nil { pendingBody = body } else { var b = body; pendingBody!.writeBuffer(&b) }
            block(.backlog, pendingBody!.readableBytes > Self.maxBuffered)
        }
        if requestBody.done && phase == .forwarding { armResponseTimer(sentNow: true) }
    }
}
