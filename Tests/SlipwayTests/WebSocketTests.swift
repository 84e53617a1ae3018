import Foundation
import Hummingbird
import HummingbirdWebSocket
import HummingbirdWSClient
import Logging
import NIOCore
import NIOPosix
import SlipwayCore
import Synchronization
import Testing
@testable import SlipwayRouter

/// WebSocket through the router: a real server (Hummingbird's upgrade) and a real client on either side.
@Suite(.serialized)
struct WebSocketTests {
    /// Echoes text as "echo: …" and binary as is.
    static func backend() async throws -> (port: Int, task: Task<Void, any Error>) {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.get("/") { _, _ in "plain\n" }
        router.ws("/echo") { _, _ in
            .upgrade()
        } onUpgrade: { inbound, outbound, _ in
            for try await message in inbound.messages(maxSize: 4 << 20) {
                switch message {
                case .text(let s): try await outbound.write(.text("echo: \(s)"))
                case .binary(let b): try await outbound.write(.binary(b))
                }
            }
        }
        let ports = AsyncStream<Int>.makeStream()
        let app = Application(router: router, server: .http1WebSocketUpgrade(webSocketRouter: router, configuration: .init(ws: .init(maxFrameSize: 2 << 20))),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { ch in ports.continuation.yield(ch.localAddress?.port ?? 0) }, logger: quietLogger())
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var it = ports.stream.makeAsyncIterator()
        return (await it.next() ?? 0, task)
    }

    @Test(.timeLimit(.minutes(1)))
    func anUpgradedConnectionCarriesFramesBothWays() async throws {
        let b = try await Self.backend()
        try await stopping([b.task]) {
            let (proxy, port) = try await RouterTests.proxy([b.port])
            try await closing(proxy) {
                let big = ByteBuffer(bytes: (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
                let texts = Mutex<[String]>([])
                let bigBack = Mutex(false)
                try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/echo", configuration: .init(maxFrameSize: 2 << 20), logger: quietLogger()) { inbound, outbound, _ in
                    try await outbound.write(.text("hello"))
                    try await outbound.write(.binary(big))
                    try await outbound.write(.text("bye"))
                    var messages = inbound.messages(maxSize: 4 << 20).makeAsyncIterator()
                    for _ in 0..<3 {
                        switch try await messages.next() {
                        case .text(let s): texts.withLock { $0.append(s) }
                        case .binary(let data): bigBack.withLock { $0 = data == big }
                        case nil: return
                        }
                    }
                }
                #expect(texts.withLock { $0 } == ["echo: hello", "echo: bye"])
                #expect(bigBack.withLock { $0 }, "1 MiB binary frame came back intact")
                // The listener still serves plain HTTP, and the upgrade counted as one request of the pool.
                #expect(try await SlipwayHTTPProbe.get(port: port) == "200 plain\n")
                let stats = try await poll(within: .seconds(5)) { () async -> PoolStatsSnapshot? in
                    let s = await proxy.registry.report()["production"]?["v1"]
                    return s?.inflight == 0 ? s : nil
                }
                #expect(stats.requests == 2 && stats.responses2xx == 1 && stats.upstreamErrors == 0)
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func anUpgradeTheAppRefusesIsAnOrdinaryResponse() async throws {
        let b = try await Self.backend()
        try await stopping([b.task]) {
            let (proxy, port) = try await RouterTests.proxy([b.port])
            try await closing(proxy) {
                let request = "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                let (_, text) = try await TimeoutTests.readUntilClosed(port: port, send: request)
                // Hummingbird refuses an upgrade to a path it has no WebSocket route for with a 400.
                #expect(text.hasPrefix("HTTP/1.1 400") && !text.contains(" 101 "), "\(text)")
                #expect(text.hasSuffix("plain\n"), "the pipelined request after the refused upgrade is answered")
            }
        }
    }
}
