import Foundation
import NIOPosix
import SlipwayCore
@testable import SlipwayRouter
import SlipwayRuntime
import Testing

/// An HTTP/2 client's connection through the router's HTTPS listener, held open as browsers hold theirs:
/// closed with `GOAWAY` after the listener's idle timeout, and on a drain (a router handing over to a new
/// process) told `GOAWAY` at once, its stream in progress answered, then closed — so the drain ends when the
/// connection does instead of at its time limit, and no request of it fails.
@Suite(.serialized)
struct HTTP2ConnectionTests {
    static func listener(plain: Int, secure: Int, backend: Int, cert: TestCertificates, idleMs: Int64 = 75_000) -> RouteTable {
        var shop = ListenerTable(name: "shop", listen: ListenAddress(host: "127.0.0.1", port: plain),
                                 pools: [Pool(name: "v1", backends: [Backend(port: backend)])], timeouts: .init(idleMs: idleMs))
        shop.tls = RouterTLS(listen: ListenAddress(host: "127.0.0.1", port: secure), certFile: cert.certFile, keyFile: cert.keyFile,
                             redirect: false, http2: true)
        return RouteTable(generation: 1, listeners: [shop])
    }

    /// A router with one HTTPS listener (HTTP/2 offered) in front of a test backend; `body` gets it, the HTTPS port
    /// and the certificate's CA.
    static func withRouter(idleMs: Int64 = 75_000, _ body: (ProxyServer, Int, String) async throws -> Void) async throws {
        let dir = try EdgeTLSTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cert = try TestCertificates(in: dir, name: "shop", hosts: ["shop.test"])
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let plain = try PortAllocator.freePort(), secure = try PortAllocator.freePort()
            let proxy = ProxyServer(group: MultiThreadedEventLoopGroup.singleton, logger: quietLogger())
            try await proxy.apply(Self.listener(plain: plain, secure: secure, backend: a.port, cert: cert, idleMs: idleMs))
            try await closing(proxy) { try await body(proxy, secure, cert.caFile) }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func anIdleConnectionGetsGOAWAYAndIsClosedAfterTheIdleTimeout() async throws {
        try await Self.withRouter(idleMs: 400) { _, secure, ca in
            // One connection that asks once, and one that never opens a stream.
            let silent = try await HTTP2TestClient(port: secure, host: "shop.test", caFile: ca)
            let client = try await HTTP2TestClient(port: secure, host: "shop.test", caFile: ca)
            let answer = try await client.get("/")
            let answered = ContinuousClock.now
            #expect(answer.status == 200 && answer.body == "backend a\n", "\(answer)")
            _ = try await poll(within: .seconds(10)) { client.isClosed ? true : nil }
            #expect(ContinuousClock.now - answered >= .milliseconds(400), "not before the idle timeout")
            #expect(!client.goaways.isEmpty, "told GOAWAY before the close")
            _ = try await poll(within: .seconds(10)) { silent.isClosed ? true : nil }
            #expect(!silent.goaways.isEmpty)
            await client.close()
            await silent.close()
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aDrainSendsGOAWAYAnswersTheStreamInProgressAndClosesTheConnection() async throws {
        try await Self.withRouter { proxy, secure, ca in
            let client = try await HTTP2TestClient(port: secure, host: "shop.test", caFile: ca)
            #expect(try await client.get("/").status == 200)
            // A request the instance takes 800 ms to answer, in flight when the drain begins.
            let slow = Task { try await client.get("/slow") }
            _ = try await poll(within: .seconds(5)) { () async -> Bool? in
                await proxy.registry.report()["shop"]?["v1"]?.inflight == 1 ? true : nil
        }
        let began = ContinuousClock.now
        let left = await proxy.drain(timeout: .seconds(20))
        #expect(left == 0, "the connection closed by itself once its stream was answered")
        #expect(ContinuousClock.now - began < .seconds(10))
        let answer = try await slow.value
        #expect(answer.status == 200 && answer.body == "slow from a\n", "\(answer)")
        #expect(!client.goaways.isEmpty, "told GOAWAY")
        _ = try await poll(within: .seconds(5)) { client.isClosed ? true : nil }
        await client.close()
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func manyStreamsAtOnceAreEachAnsweredAndCookieFieldsReachTheInstanceAsOne() async throws {
        try await Self.withRouter { _, secure, ca in
            let client = try await HTTP2TestClient(port: secure, host: "shop.test", caFile: ca)
            // 200 streams in flight on one connection: each gets its own answer (their frames leave together).
            let answers = try await withThrowingTaskGroup(of: (Int, Int, String).self) { group in
                for i in 0..<200 { group.addTask { let r = try await client.get("/p/n\(i)"); return (i, r.status, r.body) } }
                var out: [(Int, Int, String)] = []
                for try await r in group { out.append(r) }
                return out
        }
        #expect(answers.count == 200)
        for (i, status, body) in answers { #expect(status == 200 && body == "path n\(i)\n", "stream \(i): \(status) \(body)") }
        // A browser may send its cookies as several fields (RFC 9113 §8.2.3): the instance gets one header.
        let echoed = try await client.get("/headers", headers: [("cookie", "a=1"), ("cookie", "b=2")])
        #expect(echoed.body.lowercased().contains("cookie: a=1; b=2\n"), "\(echoed.body)")
        #expect(!echoed.body.lowercased().contains("cookie: a=1\n"), "\(echoed.body)")
        await client.close()
        }
    }
}
