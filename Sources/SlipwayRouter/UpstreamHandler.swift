import NIOCore
import NIOHTTP1

/// The tail of an upstream (router → instance) connection. Forwards response parts to whichever
/// `ProxyHandler` currently owns the connection; while idle it sits in its event loop's `UpstreamPool`.
final class UpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let backend: Backend
    weak var pool: UpstreamPool?
    var delegate: ProxyHandler?
    var inPool = false
    private var context: ChannelHandlerContext?

    init(backend: Backend) { self.backend = backend }

    var isActive: Bool { context?.channel.isActive ?? false }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        delegate?.upstreamRead(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        if inPool {
            pool?.remove(self)
            inPool = false
        }
        let owner = delegate
        delegate = nil
        owner?.upstreamClosed(self)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func write(_ part: HTTPClientRequestPart) {
        context?.write(wrapOutboundOut(part), promise: nil)
    }

    func flush() { context?.flush() }

    func close() { context?.close(promise: nil) }

    func setAutoRead(_ on: Bool) {
        try? context?.channel.syncOptions?.setOption(.autoRead, value: on)
    }
}
