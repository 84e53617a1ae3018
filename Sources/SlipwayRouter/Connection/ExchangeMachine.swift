import NIOCore
import SlipwayCore

/// The HTTP/1.1 protocol state of one client connection through the router, as a value: it takes
/// events (bytes from the client, an upstream connection attached, bytes from the upstream, the
/// upstream closing, the router answering itself) and returns what the connection must do. It does
/// no I/O and reads no clock, so it is tested without sockets (`ExchangeMachineTests`);
/// `ClientConnection` owns the sockets, timers and pools and carries out the actions.
///
/// Only the request's head is scanned (routing and framing); bodies are framed by counting or by
/// scanning chunk sizes and go on unchanged. Pipelined requests wait in `inbound` until the exchange
/// before them has ended.
struct ExchangeMachine {
    enum Phase: Equatable {
        /// Waiting for a request's head.
        case idle
        /// The request is parked while its listener is paused (maintenance `paused`).
        case held
        /// An upstream connection is being opened for the request.
        case connecting
        /// The request goes to an upstream connection and its response comes back.
        case forwarding
        /// After `101 Switching Protocols`: bytes both ways, unread.
        case tunnel
        case closed
    }

    /// The request in progress.
    struct Request {
        var number: UInt64 = 0
        /// The client's own `X-Request-Id`, kept instead of the router's.
        var clientId: String?
        /// The head as it goes upstream (kept until the exchange ends: a replay sends it again).
        var head: ByteBuffer?
        /// Body bytes that arrived before an upstream connection was attached.
        var pendingBody: ByteBuffer?
        var body = BodyFraming.empty
        var isHEAD = false
        var http10 = false
        var keepAlive = true
        var wantsUpgrade = false
        /// A body-less GET or HEAD (it may be sent again: to the stable release after a canary's 5xx).
        var safeToRepeat = false
        var retriedOnStable = false
        /// Times the request was sent again after an upstream closed without answering.
        var replays = 0
        /// Where a plain-HTTP request of a listener with `redirect_https` is sent instead (a 308).
        var redirect: String?
    }

    /// The response in progress.
    struct Response {
        /// A head that has not fully arrived.
        var partial: ByteBuffer?
        var started = false
        var body = BodyFraming.empty
        var status = 0
        /// The upstream connection may serve another request afterwards.
        var reusable = true
    }

    /// What to do with the client's bytes.
    enum ClientAction: Equatable {
        /// Nothing until the next event.
        case wait
        /// A request's head arrived (`request` describes it): pick a pool and connect; `sticky` is the
        /// client's sticky value when the listener routes by one.
        case route(sticky: String?)
        /// Answer 400 with this problem; the connection closes after it.
        case badRequest(String)
        /// Body bytes for the upstream; `complete`: the request has now been sent whole.
        case forward(ByteBuffer, complete: Bool)
        /// Body bytes were kept for the upstream to come; `overLimit`: stop reading until it is attached.
        case buffered(overLimit: Bool)
        /// Pipelined bytes wait for the exchange to end; `overLimit`: stop reading meanwhile.
        case pipelined(overLimit: Bool)
        /// Bytes for the tunnel's upstream end.
        case tunnel(ByteBuffer)
    }

    static let maxBuffered = 256 * 1024

    // Read by the connection; changed only by the machine's own methods (here and in its extensions).
    var phase = Phase.idle
    var request = Request()
    var response = Response()
    /// Client bytes not handled yet: a partial head, or pipelined requests waiting their turn.
    var inbound: ByteBuffer?
    var scanner = HeadScanner()
    /// Heads are assembled in these and reused once the socket has taken them (no allocation per request).
    var requestScratch = ByteBuffer()
    var responseScratch = ByteBuffer()
    let clientIP: [UInt8]

    init(clientIP: [UInt8]) { self.clientIP = clientIP }

    var requestId: String { request.clientId ?? RequestID.string(request.number) }

    /// The response's head has not come yet for a request that went upstream.
    var awaitingResponse: Bool { phase == .forwarding && !response.started }

    // MARK: Client events

    /// Bytes from the client: in a tunnel they go straight on; otherwise they wait for `nextClientAction`.
    mutating func clientRead(_ buffer: ByteBuffer) -> ByteBuffer? {
        if phase == .tunnel { return buffer }
        if inbound == nil {
            inbound = buffer
        } else {
            var b = buffer
            inbound!.writeBuffer(&b)
        }
        return nil
    }

    /// The listener a request goes to, and the path prefix to take off (`ClientConnection` picks it).
    typealias Selection = (listener: RouteSnapshot.CompiledListener, strip: String?)

    /// The next thing to do with the buffered client bytes; called until it answers `.wait` or
    /// `.pipelined`. `select` picks the request's listener from the table's current view (given the
    /// request's host and target, read only if it asks): it decides sticky values, added headers and the
    /// path sent on. It is called only when a request's head is complete, not for body bytes.
    mutating func nextClientAction(select: (_ host: () -> String?, _ target: () -> String) -> Selection?) -> ClientAction {
        guard let buffered = inbound, buffered.readableBytes > 0 else {
            inbound = nil
            return .wait
        }
        switch phase {
        case .idle:
            return beginRequest(buffered, select: select)
        case .held, .connecting, .forwarding:
            if request.body.done { return .pipelined(overLimit: buffered.readableBytes > Self.maxBuffered) }
            return forwardBody(buffered)
        case .tunnel:
            inbound = nil
            return .tunnel(buffered)
        case .closed:
            inbound = nil
            return .wait
        }
    }

    private mutating func beginRequest(_ buffered: ByteBuffer, select: (_ host: () -> String?, _ target: () -> String) -> Selection?) -> ClientAction {
        let outcome = buffered.withUnsafeReadableBytes { scanner.scan($0, request: true) }
        switch outcome {
        case .incomplete:
            return .wait
        case .invalid(let problem):
            request = Request(number: RequestID.next(), keepAlive: false)
            response = Response()
            inbound = nil
            return .badRequest(problem)
        case .complete:
            break
        }
        let head = scanner.head
        let selected = select({ head.host.map { index in buffered.withUnsafeReadableBytes { scanner.value($0, index) } } },
                              { buffered.withUnsafeReadableBytes { scanner.target($0) } })
        let listener = selected?.listener
        var sticky: String?
        if let listener, listener.sticky != nil {
            sticky = buffered.withUnsafeReadableBytes { scanner.stickyValue($0, listener) }
        }
        var r = Request()
        r.number = RequestID.next()
        r.clientId = head.requestId.map { index in buffered.withUnsafeReadableBytes { scanner.value($0, index) } }
        r.isHEAD = head.isHEAD
        r.safeToRepeat = (head.isGET || head.isHEAD) && !head.chunked && (head.contentLength ?? 0) == 0
        r.http10 = head.http10
        r.keepAlive = head.keepAlive
        r.wantsUpgrade = head.wantsUpgrade
        r.body = head.chunked ? BodyFraming(.chunked) : BodyFraming(.length, length: head.contentLength ?? 0)
        if let port = listener?.redirectPort {
            let target = buffered.withUnsafeReadableBytes { scanner.target($0) }
            // ACME's HTTP-01 challenges are answered over plain HTTP (the CA asks there).
            if !target.hasPrefix(RouterTLS.acmeChallengePrefix), let host = head.host.map({ i in buffered.withUnsafeReadableBytes { scanner.value($0, i) } }) {
                r.redirect = Self.httpsLocation(host: host, port: port, target: target)
            }
        }
        requestScratch.clear(minimumCapacity: head.length + scanner.requestGrowth(clientIP: clientIP))
        let adds = listener?.requestHeaders ?? .all
        buffered.withUnsafeReadableBytes {
            scanner.writeRequest($0, into: &requestScratch, clientIP: clientIP, requestNumber: r.number, adds: adds,
                                 strip: selected?.strip?.utf8.count ?? 0)
        }
        r.head = requestScratch
        request = r
        var rest = buffered
        rest.moveReaderIndex(forwardBy: head.length)
        inbound = rest
        response = Response()
        return .route(sticky: sticky)
    }

    /// `https://HOST[:PORT]/TARGET` for a request that came as `Host: HOST` with `TARGET` (no port for 443).
    static func httpsLocation(host: String, port: Int, target: String) -> String {
        let name = RouteMatch.normalized(host)
        return "https://" + name + (port == 443 ? "" : ":\(port)") + (target.hasPrefix("/") ? target : "/")
    }

    private mutating func forwardBody(_ buffered: ByteBuffer) -> ClientAction {
        var buf = buffered
        let used: Int
        do {
            used = try request.body.advance(buf)
        } catch {
            request.keepAlive = false
            inbound = nil
            return .badRequest("the chunked request body is malformed")
        }
        let body = buf.readSlice(length: used)!
        inbound = buf
        if phase == .forwarding { return .forward(body, complete: request.body.done) }
        if request.pendingBody == nil {
            request.pendingBody = body
        } else {
            var b = body
            request.pendingBody!.writeBuffer(&b)
        }
        return .buffered(overLimit: request.pendingBody!.readableBytes > Self.maxBuffered)
    }

    /// The client's connection is gone; the phase it was in.
    mutating func clientClosed() -> Phase {
        let was = phase
        phase = .closed
        inbound = nil
        return was
    }

    // MARK: Routing

    /// The request is parked until its listener's table changes or its hold limit passes.
    mutating func hold() { phase = .held }

    /// An upstream connection is being opened for the request.
    mutating func connecting() { phase = .connecting }

    /// An upstream connection takes the request: what to write to it (the head, and body bytes that
    /// came meanwhile), and whether the request is then complete.
    mutating func attach() -> (head: ByteBuffer?, body: ByteBuffer?, complete: Bool) {
        phase = .forwarding
        let body = request.pendingBody
        request.pendingBody = nil
        return (request.head, body, request.body.done)
    }

    /// A canary's 5xx to a repeatable request: it goes once more, to the stable release.
    mutating func retryOnStable() {
        response = Response(reusable: false)
        request.retriedOnStable = true
        request.replays = 0
    }
}
