#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOPosix
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Testing
@testable import SlipwayRouter

/// The router's timeouts over real sockets: an instance that does not answer (504), one that does not
/// accept connections (504 after trying the others), and idle client connections closed.
@Suite(.serialized)
struct TimeoutTests {
    static func table(port: Int, backends: [Int], timeouts: ListenerTable.Timeouts, generation: Int = 2) -> RouteTable {
        RouteTable(generation: generation, listeners: [ListenerTable(
            name: "production", listen: ListenAddress(host: "127.0.0.1", port: port),
            pools: [Pool(name: "v1", backends: backends.map { Backend(port: $0) })], timeouts: timeouts)])
    }

    @Test(.timeLimit(.minutes(1)))
    func anInstanceThatDoesNotAnswerIs504() async throws {
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let (proxy, port) = try await RouterTests.proxy([a.port])
            try await closing(proxy) {
                try await proxy.apply(Self.table(port: port, backends: [a.port], timeouts: .init(responseMs: 200)))
                let began = ContinuousClock.now
                let r = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: port), path: "/slow")
                #expect(r.status == 504)
                #expect(r.bodyText.contains("did not answer within 200 ms") && r.header("x-request-id") != nil, "\(r.bodyText)")
                #expect(ContinuousClock.now - began < .milliseconds(700), "answered before the instance's 800 ms")
                // The instance itself is fine: fast requests still pass.
                #expect(try await SlipwayHTTPProbe.get(port: port) == "200 backend a\n")
                let stats = try await poll(within: .seconds(5)) { () async -> PoolStatsSnapshot? in
                    let s = await proxy.registry.report()["production"]?["v1"]
                    return s?.inflight == 0 ? s : nil
                }
                #expect(stats.responses5xx == 1 && stats.upstreamErrors == 1)
            }
        }
    }

    /// A listener whose accept queue is full: the kernel drops new SYNs, so connecting hangs.
    static func blackHole() throws -> (port: Int, fds: [Int32]) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        listen(fd, 0)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        var fds = [fd]
        for _ in 0..<4 {
            let c = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(c, $0, len) } }
            fds.append(c)
        }
        return (Int(UInt16(bigEndian: addr.sin_port)), fds)
    }

    @Test(.timeLimit(.minutes(1)))
    func anInstanceThatDoesNotAcceptIsSkippedThen504() async throws {
        let hole = try Self.blackHole()
        defer { for fd in hole.fds { close(fd) } }
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let (proxy, port) = try await RouterTests.proxy([a.port])
            try await closing(proxy) {
                // With a live instance beside it, every request is answered (the request never reached the hole).
                try await proxy.apply(Self.table(port: port, backends: [hole.port, a.port], timeouts: .init(connectMs: 300)))
                for _ in 0..<4 { #expect(try await SlipwayHTTPProbe.get(port: port) == "200 backend a\n") }
                // Alone, it is a 504 that says why.
                try await proxy.apply(Self.table(port: port, backends: [hole.port], timeouts: .init(connectMs: 300), generation: 3))
                let began = ContinuousClock.now
                let r = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: port), path: "/")
                #expect(r.status == 504 && r.bodyText.contains("within 300 ms"), "\(r.status) \(r.bodyText)")
                #expect(ContinuousClock.now - began >= .milliseconds(300))
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func idleClientConnectionsAreClosed() async throws {
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let (proxy, port) = try await RouterTests.proxy([a.port])
            try await closing(proxy) {
                try await proxy.apply(Self.table(port: port, backends: [a.port], timeouts: .init(idleMs: 300)))
                // A connection that sends nothing, and one that sends a request and then nothing: both are closed.
                let results = try await withThrowingTaskGroup(of: (Duration, String).self) { group in
                    for request in ["", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"] {
                        group.addTask { try await Self.readUntilClosed(port: port, send: request) }
                    }
                    var out: [(Duration, String)] = []
                    for try await r in group { out.append(r) }
                    return out
                }
                for (took, text) in results {
                    #expect(took >= .milliseconds(300) && took < .seconds(10), "\(took)")
                    #expect(text.isEmpty || text.hasPrefix("HTTP/1.1 200"), "\(text)")
                }
            }
        }
    }

    /// Connects, sends `send`, reads until the server closes (or 15 s); returns the time and what came.
    static func readUntilClosed(port: Int, send: String) async throws -> (Duration, String) {
        try await withCheckedThrowingContinuation { c in
            DispatchQueue.global().async {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(fd) }
                var addr = sockaddr_in()
                addr.sin_family = sa_family_t(AF_INET)
                addr.sin_addr.s_addr = inet_addr("127.0.0.1")
                addr.sin_port = UInt16(port).bigEndian
                var tv = timeval(tv_sec: 15, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                // Before connecting: the server's idle timer cannot start earlier than this (taken after
                // connect(), a thread delayed on a busy machine measured less than the timeout).
                let began = ContinuousClock.now
                let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                guard ok == 0 else { return c.resume(throwing: POSIXError(.ECONNREFUSED)) }
                if !send.isEmpty { _ = send.withCString { write(fd, $0, strlen($0)) } }
                var received = [UInt8]()
                var buf = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = read(fd, &buf, buf.count)
                    if n <= 0 { break }
                    received += buf[0..<n]
                }
                c.resume(returning: (ContinuousClock.now - began, String(decoding: received, as: UTF8.self)))
            }
        }
    }
}

extension TimeoutTests {
    @Test(.timeLimit(.minutes(1)))
    func anInstanceThatRefusesIsEjectedForAWhile() async throws {
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let dead = try PortAllocator.freePort()
            let (proxy, port) = try await RouterTests.proxy([dead, a.port])
            try await closing(proxy) {
                for _ in 0..<10 { #expect(try await SlipwayHTTPProbe.get(port: port) == "200 backend a\n") }
                // Round-robin alone would have tried the dead one for about half of them; once ejected it is skipped.
                let stats = try await poll(within: .seconds(5)) { () async -> PoolStatsSnapshot? in
                    let s = await proxy.registry.report()["production"]?["v1"]
                    return s?.inflight == 0 ? s : nil
                }
                #expect(stats.upstreamErrors == 1, "\(stats)")
                #expect(stats.responses2xx == 10)
            }
        }
    }
}
