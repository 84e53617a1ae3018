import NIOCore
import NIOHPACK
import NIOHTTP2

/// One HTTP/2 stream in front of a `ClientConnection`. It turns the stream's frames into the HTTP/1.1 bytes
/// the connection reads on a plain connection (the header block written straight out as a request head;
/// a body of unknown length goes chunked) and the bytes the connection writes back (the instance's
/// response, or the router's own answer) into frames: the head as a header block, hop-by-hop headers
/// dropped, the body unframed, the end of the stream on the last frame. So routing, canaries, sticky pools,
/// maintenance, timeouts and the pools' figures are the same code for HTTP/1.1 and HTTP/2 clients, and
/// instances keep speaking HTTP/1.1 over pooled keep-alive connections. No HTTP/1 head values in between:
/// both ways go from bytes to a header block and back once.
final class HTTP2Bridge: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTP2Frame.FramePayload

    // MARK: Request: frames in, HTTP/1.1 bytes out

    /// A header block not yet passed on: how the body is framed is known only at the next frame.
    private var pendingHead: HPACKHeaders?
    private var headSent = false
    private var chunkedRequest = false
    private var requestEnded = false
    private var isHEAD = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let block):
            if headSent || pendingHead != nil {
                // Trailers: they end the body (an HTTP/1.1 instance gets none: its request was framed already).
                finishRequest(context, lastBody: nil)
                return
            }
            isHEAD = block.headers.first(name: ":method") == "HEAD"
            if block.endStream {
                headSent = true
                requestEnded = true
                pass(context, Self.requestHead(block.headers, framing: .none, allocator: context.channel.allocator))
            } else {
                pendingHead = block.headers
            }
        case .data(let frame):
            guard !requestEnded, case .byteBuffer(let body) = frame.data else { return }
            if let head = pendingHead {
                pendingHead = nil
                headSent = true
                // A body that comes whole in its first frame is sent with its length, not chunked.
                let framing: Framing = head.contains(name: "content-length") ? .declared
                    : frame.endStream ? .length(body.readableBytes) : .chunked
                chunkedRequest = framing == .chunked
                pass(context, Self.requestHead(head, framing: framing, allocator: context.channel.allocator))
            }
            if frame.endStream {
                finishRequest(context, lastBody: body)
            } else if body.readableBytes > 0 {
                pass(context, chunkedRequest ? Self.chunk(body, allocator: context.channel.allocator) : body)
            }
        default:
            break
        }
    }

    /// The request's body is over: its last bytes, then the chunked end when it is chunked.
    private func finishRequest(_ context: ChannelHandlerContext, lastBody: ByteBuffer?) {
        guard !requestEnded else { return }
        requestEnded = true
        if let head = pendingHead {
            pendingHead = nil
            headSent = true
            pass(context, Self.requestHead(head, framing: .none, allocator: context.channel.allocator))
            return
        }
        if let body = lastBody, body.readableBytes > 0 {
            pass(context, chunkedRequest ? Self.chunk(body, allocator: context.channel.allocator) : body)
        }
        if chunkedRequest { pass(context, ByteBuffer(string: "0\r\n\r\n")) }
    }

    private func pass(_ context: ChannelHandlerContext, _ bytes: ByteBuffer) {
        context.fireChannelRead(wrapInboundOut(bytes))
    }

    static func chunk(_ body: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: body.readableBytes + 16)
        out.writeString(String(body.readableBytes, radix: 16))
        out.writeStaticString("\r\n")
        var b = body
        out.writeBuffer(&b)
        out.writeStaticString("\r\n")
        return out
    }

    // MARK: Response: HTTP/1.1 bytes in, frames out

    var response = HTTP1ResponseReader()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var bytes = unwrapOutboundIn(data)
        response.isHEAD = isHEAD
        let parts = response.read(&bytes)
        // The end of the stream rides on the frame before it when there is one (a head without a body, or a
        // body's last bytes): one frame fewer per response.
        var i = 0
        while i < parts.count {
            let ends = i + 1 < parts.count && parts[i + 1].isEnd
            switch parts[i] {
            case .head(let headers):
                context.write(wrapOutboundOut(.headers(.init(headers: headers, endStream: ends))), promise: nil)
            case .body(let body):
                context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(body), endStream: ends))), promise: nil)
            case .end:
                context.write(wrapOutboundOut(Self.endOfStream(context)), promise: nil)
            }
            i += ends ? 2 : 1
        }
        promise?.succeed(())
    }

    static func endOfStream(_ context: ChannelHandlerContext) -> HTTP2Frame.FramePayload {
        .data(.init(data: .byteBuffer(context.channel.allocator.buffer(capacity: 0)), endStream: true))
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // A body delimited by the connection's close ends here.
        if response.closed() != nil { context.writeAndFlush(wrapOutboundOut(Self.endOfStream(context)), promise: nil) }
        context.close(mode: mode, promise: promise)
    }
}
