import Foundation
import NIOPosix
import SlipwayCore
import SlipwayRuntime
import Testing
@testable import SlipwayRouter

extension RouterTests {
    /// A restarted router takes over a socket whose queue already holds connections with requests in
    /// them: each must be answered from the table, never meet a router with no table yet (503).
    @Test(.timeLimit(.minutes(1)))
    func connectionsQueuedOnAnInheritedSocketMeetTheTable() async throws {
        let a = try await Self.backend("a")
        try await stopping([a.task]) {
            let port = try PortAllocator.freePort()
            let address = ListenAddress(host: "127.0.0.1", port: port)
            let listening = try ListenSocket.open(address)
            // Connections the kernel completes and queues before any process accepts, as during a handover.
            var clients: [ManualClient] = []
            for _ in 0..<32 {
                let c = try ManualClient(port: port)
                c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                clients.append(c)
            }
            let proxy = ProxyServer(group: MultiThreadedEventLoopGroup.singleton, inherited: [address: listening], logger: quietLogger())
            // More listeners are bound after the inherited one, before the table is published: time in which
            // the queued connections must wait.
            var table = Self.table(port: port, pool: "v1", backends: [a.port])
            for i in 0..<4 {
                table.listeners.append(ListenerTable(name: "other\(i)", listen: ListenAddress(host: "127.0.0.1", port: try PortAllocator.freePort())))
            }
            try await proxy.apply(table)
            try await closing(proxy) {
                for c in clients {
                    // The backend's answer ends the response; anything else ends with the connection closing first.
                    let reply = (try? await c.read(until: "backend a\n")).map { String(decoding: $0, as: UTF8.self) }
                    #expect(reply?.hasPrefix("HTTP/1.1 200") == true, "\(reply ?? "the connection closed without the backend's answer")")
                }
            }
        }
    }
}
