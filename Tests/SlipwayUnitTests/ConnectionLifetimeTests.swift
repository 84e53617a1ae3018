import NIOCore
import NIOEmbedded
import SlipwayCore
import Testing
@testable import SlipwayRouter

/// A client connection's handler is freed with its channel. (Its context holds it strongly; a handler that
/// kept its context past `handlerRemoved` kept both, the channel and its pipeline alive: about 3 KB for every
/// client connection and every HTTP/2 stream the router ever had, found with h2load.)
@Suite struct ConnectionLifetimeTests {
    final class Watch {
        weak var handler: ClientConnection?
    }

    @Test func aClosedConnectionsHandlerIsFreed() throws {
        let watch = Watch()
        let loop = EmbeddedEventLoop()
        try {
            let channel = EmbeddedChannel(loop: loop)
            let handler = ClientConnection(address: ListenAddress(host: "127.0.0.1", port: 80), state: RouteState(table: RouteTable(), registry: StatsRegistry()),
                                           pool: UpstreamPools().pool(for: loop))
            watch.handler = handler
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
            try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
            // No table: the router answers 503 itself and closes (Connection: close).
            let answer = try #require(try channel.readOutbound(as: ByteBuffer.self))
            #expect(String(buffer: answer).hasPrefix("HTTP/1.1 503"))
            _ = try? channel.finish()
        }()
        loop.run()
        #expect(watch.handler == nil, "the handler outlived its channel")
    }
}
