import NIOCore
import NIOHTTP2

/// The last handler of an HTTP/2 connection: it registers the connection with its loop's pool, so a router
/// that drains (handing over to a new process) asks it to quiesce — `GOAWAY`, the streams in progress
/// finish, then the connection closes (`NIOHTTP2ServerConnectionManagementHandler`) — and closes it when
/// the drain's time is up. An HTTP/1.1 connection is drained by its `ClientConnection` instead.
final class HTTP2ConnectionEntry: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    let pool: UpstreamPool
    private(set) var context: ChannelHandlerContext?

    init(pool: UpstreamPool) { self.pool = pool }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        pool.register(self)
    }

    /// Also when the connection closes: its pipeline lets go of every handler then.
    func handlerRemoved(context: ChannelHandlerContext) {
        pool.unregister(self)
        self.context = nil
    }

    /// `GOAWAY` now: no new streams, the open ones run to their end.
    func quiesce() {
        context?.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    }

    func close() { context?.close(promise: nil) }

    /// The handlers an HTTP/2 connection gets after the TLS handshake chose `h2`: flushes coalesced per turn
    /// of the loop, the HTTP/2 handler with a stream per request (`streamInitializer`), closing after
    /// `idleTimeout` without a stream (`GOAWAY` first) and quiescing on a drain.
    static func configure(_ channel: any Channel, idleTimeout: TimeAmount, pool: UpstreamPool,
                          streamInitializer: @escaping NIOChannelInitializer) throws {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(FlushCoalescer())
        let manager = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: channel.eventLoop, configuration: .init(maxIdleTime: idleTimeout, maxAge: nil, maxGraceTime: nil, keepalive: nil))
        _ = try sync.configureHTTP2Pipeline(mode: .server, connectionConfiguration: .init(), streamConfiguration: .init(),
                                            streamDelegate: manager.http2StreamDelegate, inboundStreamInitializer: streamInitializer)
        try sync.addHandlers(manager, HTTP2ConnectionEntry(pool: pool))
        // The channel went active before the handshake chose h2: the handlers after the HTTP/2 handler hear of it
        // now (the manager starts its idle timer then).
        try sync.context(handlerType: NIOHTTP2Handler.self).fireChannelActive()
    }
}
