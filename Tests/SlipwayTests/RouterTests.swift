import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Testing
@testable import SlipwayRouter

/// The proxy with real sockets: real backends (Hummingbird on port 0) behind a real `ProxyServer`.
@Suite(.serialized)
struct RouterTests {
    /// A backend that says who it is, echoes bodies (size + sum) and can be slow.
    static func backend(_ name: String) async throws -> (port: Int, task: Task<Void, any Error>) {
        let router = Router()
        router.get("/") { _, _ in "backend \(name)\n" }
        router.get("/slow") { _, _ -> String in
            try await Task.sleep(for: .milliseconds(800))
            return "slow from \(name)\n"
        }
        router.post("/echo") { request, _ -> String in
            var count = 0, sum = 0
            for try await chunk in request.body {
                count += chunk.readableBytes
                for b in chunk.readableBytesView { sum = (sum &+ Int(b)) % 1_000_003 }
            }
            return "\(name) got \(count) bytes sum \(sum)\n"
        }
        router.get("/p/{name}") { _, context in "path \(context.parameters.get("name") ?? "?")\n" }
        router.get("/headers") { request, _ -> String in
            request.headers.map { "\($0.name.canonicalName): \($0.value)" }.sorted().joined(separator: "\n") + "\n"
        }
        router.get("/big") { _, _ -> Response in
            let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
            return Response(status: .ok, body: ResponseBody { writer in
                for _ in 0..<160 { try await writer.write(chunk) }  // 10 MiB, chunked
                try await writer.finish(nil)
            })
        }
        return await serve(router)
    }

    /// Serves `router` on a free port of 127.0.0.1; cancel the task to stop it.
    static func serve(_ router: Router<BasicRequestContext>) async -> (port: Int, task: Task<Void, any Error>) {
        let ports = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { ch in ports.continuation.yield(ch.localAddress?.port ?? 0) }, logger: quietLogger())
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var it = ports.stream.makeAsyncIterator()
        return (await it.next() ?? 0, task)
    }

    static func proxy(_ backends: [Int], pool: String = "v1") async throws -> (ProxyServer, Int) {
        let proxy = ProxyServer(group: MultiThreadedEventLoopGroup.singleton, logger: quietLogger())
        let port = try PortAllocator.freePort()
        try await proxy.apply(table(port: port, pool: pool, backends: backends))
        return (proxy, port)
    }

    static func table(port: Int, pool: String, backends: [Int], generation: Int = 1) -> RouteTable {
        RouteTable(generation: generation, listeners: [ListenerTable(name: "production", listen: ListenAddress(host: "127.0.0.1", port: port),
                                                                      pools: [Pool(name: pool, backends: backends.map { Backend(port: $0) })])])
    }

    @Test(.timeLimit(.minutes(1)))
    func forwardsWithForwardedHeadersAndReusesUpstreamConnections() async throws {
        let a = try await Self.backend("a")
        try await stopping([a.task]) {
            let (proxy, port) = try await Self.proxy([a.port])
            try await closing(proxy) {
                for _ in 0..<20 { #expect(try await SlipwayHTTPProbe.get(port: port) == "200 backend a\n") }
                // A Content-Length body can reach the client before the proxy has seen the upstream's end: let the stats settle.
                let stats = try await poll(within: .seconds(5)) { () async -> PoolStatsSnapshot? in
                    let s = await proxy.registry.report()["production"]?["v1"]
                    return s?.inflight == 0 ? s : nil
                }
                #expect(stats.requests == 20 && stats.responses2xx == 20 && stats.upstreamErrors == 0)
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func streamsLargeChunkedBodiesBothWays() async throws {
        let a = try await Self.backend("a")
        try await stopping([a.task]) {
            let (proxy, port) = try await Self.proxy([a.port])
            try await closing(proxy) {
                // 2 MiB chunked upload through curl (real client framing; 32 times the router's reads, so it streams under
                // backpressure), checked by size and sum at the backend. Bigger costs seconds of debug-build byte loops, not coverage.
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("upload-\(UUID())").path
                var bytes = [UInt8](repeating: 0, count: 2 << 20)
                for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 31) }
                _ = FileManager.default.createFile(atPath: file, contents: Data(bytes))
                defer { try? FileManager.default.removeItem(atPath: file) }
                let sum = bytes.reduce(0) { ($0 &+ Int($1)) % 1_000_003 }
                let out = try Self.curl(["-sS", "-X", "POST", "-H", "Transfer-Encoding: chunked", "--data-binary", "@\(file)", "http://127.0.0.1:\(port)/echo"])
                #expect(out == "a got \(2 << 20) bytes sum \(sum)\n")
                // 10 MiB chunked download.
                let big = try Self.curl(["-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "http://127.0.0.1:\(port)/big"])
                #expect(big == "200 \(160 * 64 * 1024)")
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func refusedUpstreamIs502WithARequestId() async throws {
        let dead = try PortAllocator.freePort()
        let (proxy, port) = try await Self.proxy([dead])
        try await closing(proxy) {
            let r = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: port), path: "/")
            #expect(r.status == 502)
            #expect(r.header("x-request-id") != nil && r.bodyText.contains("request id"))
            #expect(await proxy.registry.report()["production"]?["v1"]?.upstreamErrors ?? 0 >= 1)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func emptyTableAnswers503WithRetryAfter() async throws {
        let proxy = ProxyServer(group: MultiThreadedEventLoopGroup.singleton, logger: quietLogger())
        let port = try PortAllocator.freePort()
        try await proxy.apply(RouteTable(listeners: [ListenerTable(name: "production", listen: ListenAddress(host: "127.0.0.1", port: port))]))
        try await closing(proxy) {
            let r = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: port), path: "/")
            #expect(r.status == 503 && r.header("retry-after") == "1")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func switchSendsNewRequestsToTheNewPoolWhileInFlightOnesFinishOnTheOld() async throws {
        let a = try await Self.backend("a"), b = try await Self.backend("b")
        try await stopping([a.task, b.task]) {
            let (proxy, port) = try await Self.proxy([a.port], pool: "v1")
            try await closing(proxy) {
                let slow = Task { try await SlipwayHTTPProbe.get(port: port, path: "/slow") }
                _ = try await poll(within: .seconds(5)) { (await proxy.registry.report()["production"]?["v1"]?.inflight ?? 0) > 0 ? true : nil }
                try await proxy.apply(Self.table(port: port, pool: "v2", backends: [b.port], generation: 2))
                #expect(try await SlipwayHTTPProbe.get(port: port) == "200 backend b\n")
                #expect(try await slow.value == "200 slow from a\n")
                #expect(await proxy.registry.report()["production"]?["v1"]?.inflight == 0)
            }
        }
    }

    @Test func staleTablesNeverReplaceNewerOnes() async throws {
        let a = try await Self.backend("a"), b = try await Self.backend("b")
        try await stopping([a.task, b.task]) {
            let (proxy, port) = try await Self.proxy([a.port], pool: "v1")
            try await closing(proxy) {
                try await proxy.apply(Self.table(port: port, pool: "v2", backends: [b.port], generation: 5))
                try await proxy.apply(Self.table(port: port, pool: "v1", backends: [a.port], generation: 4))  // arrives late
                #expect(await proxy.table.generation == 5)
                #expect(try await SlipwayHTTPProbe.get(port: port) == "200 backend b\n")
            }
        }
    }

    @Test func bindingABusyAddressChangesNothing() async throws {
        let (proxy, port) = try await Self.proxy([1])
        try await closing(proxy) {
            let other = ProxyServer(group: MultiThreadedEventLoopGroup.singleton, logger: quietLogger())
            await #expect(throws: SlipwayError.self) { try await other.apply(Self.table(port: port, pool: "x", backends: [2])) }
            #expect(await other.table.listeners.isEmpty)
        }
    }

    static func curl(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
