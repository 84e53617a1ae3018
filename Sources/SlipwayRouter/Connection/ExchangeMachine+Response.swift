import NIOCore
import NIOHTTP1

/// The response side: bytes from the upstream, the upstream closing, the router's own answers, and the
/// end of an exchange.
extension ExchangeMachine {
    /// What to do with bytes from the upstream.
    enum ResponseAction: Equatable {
        /// Nothing yet (a head not fully arrived), or nothing at all (no exchange is forwarding).
        case wait
        /// An interim `1xx` head for the client; call `responseRead` again with no bytes for the rest.
        case interim(ByteBuffer)
        /// Bytes for the client (a head and the body bytes that came with it, or body bytes);
        /// `ended`: the response is complete (`leftover`: the upstream sent bytes past its end).
        case send(ByteBuffer, ByteBuffer?, ended: Bool, leftover: Bool)
        /// The upstream's answer is unusable: answer 502 with this problem (the upstream is not reused).
        case badGateway(String)
        /// A canary's 5xx to a repeatable request: send it to the stable release instead (`retryOnStable`).
        case retryOnStable(status: Int)
        /// `101 Switching Protocols`: write `head` (and `rest`) to the client and the client's `early`
        /// bytes to the upstream; the connection is a tunnel from now on.
        case upgrade(head: ByteBuffer, rest: ByteBuffer?, early: ByteBuffer?)
        /// The response broke off midway (a malformed body): close both connections.
        case abort
    }

    /// What the upstream closing means.
    enum UpstreamClosedAction: Equatable {
        case none
        /// The tunnel's other end is gone: close the client once its writes are out.
        case closeClient
        /// A response framed by the close has ended.
        case ended
        /// The response broke off midway: close the client.
        case abort
        /// Nothing reached the app and the request is body-less: send it again on a fresh connection.
        case replay
        /// Answer 502 with this problem.
        case badGateway(String)
    }

    static var inlineBody: Int { 4096 }

    /// Bytes from the upstream. `draining`: the router is handing over (the client is told to close; asked only for a final head);
    /// `extra`: header lines (each with its CR LF) the response gets, a sticky `Set-Cookie` or HSTS; `canRetryOnStable` (whether a stable pool
    /// serves beside the one that answered) is asked only for a 5xx head to a repeatable request.
    mutating func responseRead(_ buffer: ByteBuffer, draining: @autoclosure () -> Bool, extra: String?,
                               canRetryOnStable: () -> Bool) -> ResponseAction {
        guard phase == .forwarding else { return .wait }
        var buf = buffer
        var passThrough: Int?
        var rewritten = false
        if !response.started {
            if var partial = response.partial {
                partial.writeBuffer(&buf)
                buf = partial
                response.partial = nil
            }
            let outcome = buf.withUnsafeReadableBytes { scanner.scan($0, request: false) }
            switch outcome {
            case .incomplete:
                response.partial = buf
                return .wait
            case .invalid(let problem):
                response.reusable = false
                return .badGateway("the instance's answer is not HTTP/1.1 (\(problem))")
            case .complete:
                break
            }
            let head = scanner.head
            if head.status >= 500, request.safeToRepeat, !request.retriedOnStable, canRetryOnStable() { return .retryOnStable(status: head.status) }
            if head.status == 101 {
                guard request.wantsUpgrade else {
                    response.reusable = false
                    return .badGateway("the instance switched protocols on a request that did not ask to")
                }
                return startTunnel(&buf)
            }
            if head.status < 200 {
                let interim = buf.readSlice(length: head.length)!
                response.partial = buf
                return .interim(interim)
            }
            startResponse(draining: draining())
            if extra == nil && request.keepAlive && !request.http10 && head.unchangedForClient {
                passThrough = head.length
            } else {
                let inline = min(buf.readableBytes - head.length, Self.inlineBody)
                responseScratch.clear(minimumCapacity: head.length + 32 + (extra?.utf8.count ?? 0) + inline)
                buf.withUnsafeReadableBytes {
                    scanner.writeResponse($0, into: &responseScratch, clientKeepAlive: request.keepAlive, clientHTTP10: request.http10, extra: extra)
                }
                buf.moveReaderIndex(forwardBy: head.length)
                rewritten = true
            }
        }
        var body = buf
        if let passThrough { body.moveReaderIndex(forwardBy: passThrough) }
        let used: Int
        do {
            used = try response.body.advance(body)
        } catch {
            return .abort
        }
        let first: ByteBuffer
        var second: ByteBuffer?
        if let passThrough {
            // The head needs no change: it goes on as received, with the body bytes that came with it.
            first = buf.readSlice(length: passThrough + used)!
        } else if rewritten {
            // A small body travels in the head's buffer: one write, one iovec.
            if used > 0 && used <= Self.inlineBody {
                var part = buf.readSlice(length: used)!
                responseScratch.writeBuffer(&part)
            } else if used > 0 {
                second = buf.readSlice(length: used)!
            }
            first = responseScratch
        } else {
            first = buf.readSlice(length: used)!
        }
        return .send(first, second, ended: response.body.done, leftover: buf.readableBytes > 0)
    }

    /// A final response's head was read: how its body ends, and whether either connection is kept.
    private mutating func startResponse(draining: Bool) {
        let head = scanner.head
        response.started = true
        response.status = head.status
        if draining { request.keepAlive = false }
        response.reusable = head.keepAlive
        if request.isHEAD || head.status == 204 || head.status == 304 {
            response.body = .empty
        } else if head.chunked {
            response.body = BodyFraming(.chunked)
        } else if let n = head.contentLength, !head.transferEncoding {
            response.body = BodyFraming(.length, length: n)
        } else {
            // Only the instance closing ends this body: neither connection can be kept.
            response.body = BodyFraming(.untilClose)
            response.reusable = false
            request.keepAlive = false
        }
    }

    /// `101 Switching Protocols` to an upgrade request: from here on, bytes both ways, unread.
    private mutating func startTunnel(_ buf: inout ByteBuffer) -> ResponseAction {
        response.status = 101
        response.started = true
        var out = ByteBufferAllocator().buffer(capacity: scanner.head.length + 32)
        buf.withUnsafeReadableBytes { scanner.writeResponse($0, into: &out, clientKeepAlive: true, clientHTTP10: false) }
        buf.moveReaderIndex(forwardBy: scanner.head.length)
        phase = .tunnel
        let early = inbound.flatMap { $0.readableBytes > 0 ? $0 : nil }
        inbound = nil
        return .upgrade(head: out, rest: buf.readableBytes > 0 ? buf : nil, early: early)
    }

    /// The upstream connection closed.
    mutating func upstreamClosed() -> UpstreamClosedAction {
        switch phase {
        case .tunnel:
            return .closeClient
        case .forwarding:
            if response.started && response.body.mode == .untilClose { return .ended }
            if response.started { return .abort }
            // Replay only what certainly never reached the app: a body-less request with no answer yet, at most twice.
            if request.body.mode == .none, response.partial == nil, request.replays < 2 {
                request.replays += 1
                return .replay
            }
            return .badGateway("the instance closed the connection before answering")
        default:
            return .none
        }
    }

    /// The router answers the request itself: the bytes to write, or nil when a response has already
    /// begun (the client can then only be told by closing).
    mutating func answer(_ status: HTTPResponseStatus, body: ByteBuffer, contentType: String, retryAfter: Int?, draining: Bool,
                         location: String? = nil) -> ByteBuffer? {
        guard !response.started else { return nil }
        // A body not read to its end would be taken for the next request: close then.
        if !request.body.done || draining { request.keepAlive = false }
        var head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\ncontent-type: \(contentType)\r\ncontent-length: \(body.readableBytes)\r\n"
        head += "x-request-id: \(requestId)\r\ncache-control: no-store\r\n"
        if let retryAfter { head += "retry-after: \(retryAfter)\r\n" }
        if let location { head += "location: \(location)\r\n" }
        if !request.keepAlive { head += "connection: close\r\n" }
        head += "\r\n"
        var out = ByteBufferAllocator().buffer(capacity: head.utf8.count + body.readableBytes)
        out.writeString(head)
        if !request.isHEAD { out.writeImmutableBuffer(body) }
        response.started = true
        response.status = Int(status.code)
        return out
    }

    /// The response has been read to its end: whether its upstream connection can serve another request.
    func upstreamReusable(leftover: Bool) -> Bool {
        request.body.done && response.reusable && !leftover
    }

    /// The exchange is over: whether the client's connection takes another request (the phase is then
    /// idle; otherwise closed, and the connection should close once its writes are out).
    mutating func finishExchange() -> Bool {
        request.head = nil
        request.pendingBody = nil
        if !request.body.done { request.keepAlive = false }
        guard request.keepAlive else {
            close()
            return false
        }
        phase = .idle
        return true
    }

    /// The connection is closing.
    mutating func close() {
        phase = .closed
        inbound = nil
    }
}
