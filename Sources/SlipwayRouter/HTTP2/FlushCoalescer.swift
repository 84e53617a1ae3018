import NIOCore

/// Below an HTTP/2 connection's handler: its flushes wait until the event loop has handled this turn's
/// events, so the responses of many streams that complete in one turn leave in one TLS record and one
/// write instead of one each (each stream's flush reaches the connection's handler on its own). A close
/// flushes first: what was written before it still goes out.
final class FlushCoalescer: ChannelOutboundHandler {
    typealias OutboundIn = Any
    private var pending = false

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if pending {
            pending = false
            context.flush()
        }
        context.close(mode: mode, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        guard !pending else { return }
        pending = true
        context.eventLoop.assumeIsolated().execute { [self] in
            guard pending else { return }
            pending = false
            context.flush()
        }
    }
}
