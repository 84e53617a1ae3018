#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import NIOEmbedded
import NIOPosix
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Testing
@testable import SlipwayRouter

/// A client socket driven by hand: the test decides when it reads, and how small its receive buffer is.
final class ManualClient: @unchecked Sendable {  // used from one task at a time
    let fd: Int32
    private var received: [UInt8] = []

    init(port: Int, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        _ = text.withCString { write(fd, $0, strlen($0)) }
    }

    /// Reads until what arrived ends with `suffix` (or the connection closes, or 20 s pass); returns it all
    /// and starts afresh.
    func read(until suffix: String) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { c in
            DispatchQueue.global().async { [self] in
                let end = Array(suffix.utf8)
                var buf = [UInt8](repeating: 0, count: 64 * 1024)
                while !(received.count >= end.count && received.suffix(end.count).elementsEqual(end)) {
                    let n = Glibc.read(fd, &buf, buf.count)
                    if n <= 0 { return c.resume(throwing: POSIXError(n == 0 ? .ECONNRESET : .ETIMEDOUT)) }
                    received += buf[0..<n]
                }
                let all = received
                received = []
                c.resume(returning: all)
            }
        }
    }
}

/// A response bigger than the client takes at once: the router stops reading the instance until the
/// client catches up, and the upstream connection it returns to the pool afterwards works for the next
/// request.
@Suite(.serialized)
struct BackpressureTests {
    @Test(.timeLimit(.minutes(1)))
    func aLargeResponseToASlowClientPausesTheInstanceAndThePooledConnectionWorksAfter() async throws {
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let (proxy, port) = try await RouterTests.proxy([a.port])
            try await closing(proxy) {
                func stats() async -> PoolStatsSnapshot? { await proxy.registry.report()["production"]?["v1"] }

                let client = try ManualClient(port: port, receiveBuffer: 4096)
                client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
                // The client reads nothing until the router has had to stop reading from the instance.
                _ = try await poll(within: .seconds(20)) { await stats().flatMap { $0.backpressurePauses > 0 ? $0 : nil } }
                let big = try await client.read(until: "\r\n0\r\n\r\n")
                #expect(big.count > 10 * 1024 * 1024)
                #expect(String(decoding: big.prefix(15), as: UTF8.self) == "HTTP/1.1 200 OK")

                // The next request on the same client connection (so on the same event loop) goes over the
                // upstream connection that carried the large response; a new client is served too.
                client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                let next = String(decoding: try await client.read(until: "backend a\n"), as: UTF8.self)
                #expect(next.hasPrefix("HTTP/1.1 200"), "\(next)")
                let after = try await poll(within: .seconds(5)) { await stats().flatMap { $0.inflight == 0 ? $0 : nil } }
                #expect(after.requests == 2 && after.responses2xx == 2 && after.upstreamErrors == 0)
                #expect(after.connections == 1, "the pooled connection was reused, not replaced")
                #expect(try await SlipwayHTTPProbe.get(port: port) == "200 backend a\n")
            }
        }
    }

    /// The case above that timing decides: the last bytes of a response can make the client unwritable,
    /// which pauses the instance's connection just as the exchange ends. The pool must not keep it paused.
    @Test func aConnectionPausedForASlowClientReadsAgainOncePooled() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        let backend = Backend(port: 1)
        let up = UpstreamConnection(backend: backend)
        try channel.pipeline.syncOperations.addHandler(up)
        up.setAutoRead(false)
        #expect(up.readPaused)
        let pool = UpstreamPool(eventLoop: loop, index: 0)
        pool.release(up)
        #expect(!up.readPaused)
        #expect(pool.takeIdle(backend) === up)
        #expect(pool.takeIdle(backend) == nil)
    }

    @Test(.timeLimit(.minutes(1)))
    func aListenerCanLeaveOutTheForwardedAndRequestIdHeaders() async throws {
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let proxy = ProxyServer(group: MultiThreadedEventLoopGroup.singleton, logger: quietLogger())
            try await closing(proxy) {
                let port = try PortAllocator.freePort()
                try await proxy.apply(RouteTable(generation: 1, listeners: [ListenerTable(
                    name: "production", listen: ListenAddress(host: "127.0.0.1", port: port),
                    pools: [Pool(name: "v1", backends: [Backend(port: a.port)])], forwardedHeaders: false, requestIdHeader: false)]))
                let request = "GET /headers HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 10.0.0.1\r\nConnection: close\r\n\r\n"
                let (_, text) = try await TimeoutTests.readUntilClosed(port: port, send: request)
                let seen = text.lowercased()
                #expect(seen.contains("x-forwarded-for: 10.0.0.1\n"), "an incoming X-Forwarded-For passes unchanged: \(text)")
                #expect(!seen.contains("x-forwarded-proto") && !seen.contains("x-forwarded-host") && !seen.contains("x-request-id"), "\(text)")

                // A request id the client sent still reaches the instance.
                let (_, withId) = try await TimeoutTests.readUntilClosed(port: port, send: "GET /headers HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc-123\r\nConnection: close\r\n\r\n")
                #expect(withId.lowercased().contains("x-request-id: abc-123"), "\(withId)")
            }
        }
    }
}
