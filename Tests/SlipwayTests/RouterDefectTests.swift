import Foundation
import NIOCore
import NIOPosix
import SlipwayCore
import SlipwayRuntime
import Testing
@testable import SlipwayRouter

/// The router as a new user meets it: an HTTP/1.0 app behind it, and tables that arrive out of order.
@Suite(.serialized)
struct RouterDefectTests {
    /// Python's `http.server` answers HTTP/1.0 and closes after each response. Through the router a
    /// keep-alive HTTP/1.1 client must get HTTP/1.1 answers and keep its connection.
    @Test(.timeLimit(.minutes(1)))
    func anHTTP10InstanceDoesNotCloseTheClientsConnection() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-http10-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "hello\n".write(toFile: dir + "/hello.txt", atomically: true, encoding: .utf8)
        let backendPort = try PortAllocator.freePort()
        let python = ProcessSpawner.which("python3", path: ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") ?? "/usr/bin/python3"
        let server = try ProcessSpawner.spawn(argv: [python, "-m", "http.server", "\(backendPort)", "--bind", "127.0.0.1", "--directory", dir],
                                              directory: dir, environment: ProcessInfo.processInfo.environment, logFile: dir + "/server.log")
        let (proxy, port) = try await RouterTests.proxy([backendPort])
        do {
            _ = try await poll(within: .seconds(20)) { (try? await SlipwayHTTPProbe.get(port: backendPort, path: "/hello.txt")).map { _ in true } }
            let two = "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let (_, text) = try await TimeoutTests.readUntilClosed(port: port, send: two)
            let responses = text.components(separatedBy: "\r\n\r\nhello\n").filter { !$0.isEmpty }
            #expect(responses.count == 2, "\(text)")
            #expect(text.hasPrefix("HTTP/1.1 200 "), "the router answers with its own version: \(text.prefix(40))")
            #expect(!text.contains("HTTP/1.0"), "\(text)")
            // The first answer keeps the connection (no close); only the one the client asked to close says so.
            #expect(responses.first.map { !$0.lowercased().contains("connection: close") } == true, "\(text)")
        } catch {
            await proxy.closeAll()
            _ = await ProcessGroup.stop(server.pid, startTime: server.startTime, timeout: .seconds(2))
            throw error
        }
        await proxy.closeAll()
        _ = await ProcessGroup.stop(server.pid, startTime: server.startTime, timeout: .seconds(2))
    }

    /// Two tables applied at once: the newer one wins, whichever finishes binding first. (An older table
    /// that started first used to overwrite a newer one that arrived while it was binding.)
    @Test(.timeLimit(.minutes(1)))
    func concurrentTablesNeverEndOnTheOlderOne() async throws {
        for round in 0..<40 {
            let proxy = ProxyServer(group: MultiThreadedEventLoopGroup.singleton, logger: quietLogger())
            let older = RouteTable(generation: 1, listeners: [ListenerTable(name: "production", listen: ListenAddress(host: "127.0.0.1", port: 0),
                                                                            pools: [Pool(name: "v1", backends: [Backend(port: 1)])])])
            let newer = RouteTable(generation: 2, listeners: [])
            try await closing(proxy) {
                async let a: Bool = proxy.apply(older)
                async let b: Bool = proxy.apply(newer)
                _ = try await (a, b)
                #expect(await proxy.table.generation == 2, "round \(round): an older table replaced a newer one")
                #expect(await proxy.boundAddresses().isEmpty, "round \(round): the newer table has no listener")
            }
        }
    }

    /// A stale table is not written to the state file: after a restart the router must not come back with it.
    @Test(.timeLimit(.minutes(1)))
    func aStaleTableIsNotPersisted() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-table-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stateFile = dir + "/router.json"
        let proxy = ProxyServer(group: MultiThreadedEventLoopGroup.singleton, logger: quietLogger())
        try await closing(proxy) {
            let persist: @Sendable (RouteTable) throws -> Void = { try RouterApplication.saveTable($0, to: stateFile) }
            #expect(try await proxy.apply(RouteTable(generation: 5, listeners: []), persist: persist))
            #expect(try await proxy.apply(RouteTable(generation: 4, listeners: []), persist: persist) == false)
            #expect(try RouterApplication.loadTable(stateFile)?.generation == 5)
            let mode = try FileManager.default.attributesOfItem(atPath: stateFile)[.posixPermissions] as? Int
            #expect(mode == 0o600, "router.json is the owner's only")
        }
    }
}
