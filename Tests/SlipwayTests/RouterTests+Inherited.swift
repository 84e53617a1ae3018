import Foundation
import NIOPosix
import SlipwayCore
import SlipwayRuntime
import Testing
@testable import SlipwayRouter

#if canImport(Glibc)
import Glibc
#endif

extension RouterTests {
    /// A restarted router takes over a socket whose queue already holds connections with requests in
    /// them: each must be answered from the table, never meet a router with no table yet (503).
    @Test(.timeLimit(.minutes(1)))
    func connectionsQueuedOnAnInheritedSocketMeetTheTable() async throws {
        let a = try await Self.backend("a")
        defer { a.task.cancel() }
        let port = try PortAllocator.freePort()
        let address = ListenAddress(host: "127.0.0.1", port: port)
        let listening = try ListenSocket.open(address)
        // Connections the kernel completes and queues before any process accepts, as during a handover.
        var clients: [Int32] = []
        defer { for c in clients { close(c) } }
        for _ in 0..<32 {
            let c = try Self.rawConnect(port: port)
            clients.append(c)
            let request = Array("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
            #expect(request.withUnsafeBytes { send(c, $0.baseAddress, $0.count, 0) } == request.count)
        }
        let proxy = ProxyServer(group: MultiThreadedEventLoopGroup.singleton, inherited: [address: listening], logger: quietLogger())
        // More listeners are bound after the inherited one, before the table is published: time in which
        // the queued connections must wait.
        var table = Self.table(port: port, pool: "v1", backends: [a.port])
        for i in 0..<4 {
            table.listeners.append(ListenerTable(name: "other\(i)", listen: ListenAddress(host: "127.0.0.1", port: try PortAllocator.freePort())))
        }
        try await proxy.apply(table)
        defer { Task { await proxy.closeAll() } }
        for c in clients {
            #expect(Self.readAll(c).hasPrefix("HTTP/1.1 200"))
        }
    }

    static func rawConnect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else {
            close(fd)
            throw SlipwayError(.failed, "connect to 127.0.0.1:\(port) failed (errno \(errno))")
        }
        return fd
    }

    /// Everything the peer sends until it closes (or the receive timeout passes).
    static func readAll(_ fd: Int32) -> String {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
