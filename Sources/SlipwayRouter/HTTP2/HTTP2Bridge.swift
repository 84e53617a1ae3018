import NIOCore
import NIOHTTP1

/// One HTTP/2 stream in front of a `ClientConnection`. swift-nio-http2's codec gives it the stream's request
/// as HTTP/1 parts; it hands the connection the HTTP/1.1 bytes it reads on a plain connection (a body of
/// unknown length goes chunked) and turns the bytes the connection writes back (the instance's response,
/// or the router's own answer) into response parts: hop-by-hop headers dropped, the body unframed. So
/// routing, canaries, sticky pools, maintenance, timeouts and the pools' figures are the same code for
/// HTTP/1.1 and HTTP/2 clients, and instances keep speaking HTTP/1.1 over pooled keep-alive connections.
final class HTTP2Bridge: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTPServerResponsePart

    // MARK: Request: parts in, HTTP/1.1 bytes out

    /// A head not yet passed on: whether a body follows is known only at the next part.
    private var pendingHead: HTTPRequestHead?
    private var chunkedRequest = false
    private var isHEAD = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            pendingHead = head
            isHEAD = head.method == .HEAD
        case .body(let body):
            if let head = pendingHead {
                pendingHead = nil
                chunkedRequest = !head.headers.contains(name: "content-length")
                pass(context, Self.requestHead(head, chunked: chunkedRequest, allocator: context.channel.allocator))
            }
            if chunkedRequest {
                var out = context.channel.allocator.buffer(capacity: body.readableBytes + 16)
                out.writeString(String(body.readableBytes, radix: 16) + "\r\n")
                var b = body
                out.writeBuffer(&b)
                out.writeStaticString("\r\n")
                pass(context, out)
            } else {
                pass(context, body)
            }
        case .end:
            if let head = pendingHead {
                pendingHead = nil
                pass(context, Self.requestHead(head, chunked: false, allocator: context.channel.allocator))
            } else if chunkedRequest {
                pass(context, ByteBuffer(string: "0\r\n\r\n"))
            }
        }
    }

    private func pass(_ context: ChannelHandlerContext, _ bytes: ByteBuffer) {
        context.fireChannelRead(wrapInboundOut(bytes))
    }

    /// `GET /path HTTP/1.1`, the request's headers (`Host` from `:authority`), and the framing of its body.
    static func requestHead(_ head: HTTPRequestHead, chunked: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: 256)
        out.writeString("\(head.method.rawValue) \(head.uri) HTTP/1.1\r\n")
        for (name, value) in head.headers where !hopByHop(name) {
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
            out.writeStaticString("\r\n")
        }
        if chunked { out.writeStaticString("transfer-encoding: chunked\r\n") }
        out.writeStaticString("\r\n")
        return out
    }

    static func hopByHop(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { HTTP1ResponseReader.hopByHop(UnsafeRawBufferPointer($0)[...]) }
    }

    // MARK: Response: HTTP/1.1 bytes in, parts out

    var response = HTTP1ResponseReader()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var bytes = unwrapOutboundIn(data)
        response.isHEAD = isHEAD
        let parts = response.read(&bytes)
        for part in parts { context.write(wrapOutboundOut(part), promise: nil) }
        promise?.succeed(())
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // A body delimited by the connection's close ends here.
        if let end = response.closed() { context.writeAndFlush(wrapOutboundOut(end), promise: nil) }
        context.close(mode: mode, promise: promise)
    }
}
