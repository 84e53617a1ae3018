import NIOCore
import SlipwayCore
import Synchronization

/// The router's end of a connection to an instance. Bytes go to whichever `ClientConnection` owns it
/// for the current exchange; between exchanges it waits in its event loop's `UpstreamPool`.
final class UpstreamConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let backend: Backend
    /// Its event loop's pool (strong: pools live as long as their loop, and a weak load costs on every flush).
    var pool: UpstreamPool?
    /// The pool (release) it was opened for, whose open-connection count it is in.
    var stats: PoolStats?
    var owner: ClientConnection?
    var inPool = false
    private var context: ChannelHandlerContext?

    init(backend: Backend) { self.backend = backend }

    /// Open until the channel goes inactive (kept here: no atomic load on the request path).
    private(set) var isActive = true

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        isActive = false
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let owner else {
            // An idle connection has nothing to say; whatever it sends makes it unusable.
            context.close(promise: nil)
            return
        }
        owner.upstreamRead(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        owner?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isActive = false
        stats?.connections.subtract(1, ordering: .relaxed)
        stats = nil
        if inPool {
            pool?.remove(self)
            inPool = false
        }
        pool = nil
        let o = owner
        owner = nil
        o?.upstreamClosed(self)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        owner?.upstreamWritabilityChanged(context.channel.isWritable)
    }

    func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    func writeAndFlush(_ buffer: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// Flush at the end of this turn of the event loop.
    func flushSoon() {
        guard let context else { return }
        pool?.flushSoon(context, joined: &flushBatch)
    }

    /// The flush batch this connection last joined.
    private var flushBatch: UInt64 = 0

    func close() { context?.close(promise: nil) }

    /// Reading was stopped because the client could not take more (see `setAutoRead`).
    private(set) var readPaused = false

    func setAutoRead(_ on: Bool) {
        guard readPaused == on else { return }
        readPaused = !on
        if !on { stats?.backpressurePauses.add(1, ordering: .relaxed) }
        try? context?.channel.syncOptions?.setOption(.autoRead, value: on)
    }
}
