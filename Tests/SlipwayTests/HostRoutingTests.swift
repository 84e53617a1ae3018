import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Testing
@testable import SlipwayRouter

/// Several environments on one listening address, told apart by host and path: each request reaches its
/// own environment's instances, a route's prefix is taken off when asked, and what no route claims is a 404.
@Suite(.serialized)
struct HostRoutingTests {
    /// A backend that answers with its name and the path it was asked for.
    static func backend(_ name: String) async -> (port: Int, task: Task<Void, any Error>) {
        let router = Router()
        for path in ["/", "/orders", "/api/orders", "/docs/intro"] {
            router.get(RouterPath(path)) { request, _ in "\(name) \(request.uri.path)\n" }
        }
        return await RouterTests.serve(router)
    }

    static func listener(_ name: String, port: Int, backend: Int, route: RouteMatch?) -> ListenerTable {
        var l = ListenerTable(name: name, listen: ListenAddress(host: "127.0.0.1", port: port), pools: [Pool(name: "v1", backends: [Backend(port: backend)])])
        l.route = route
        return l
    }

    static func get(_ port: Int, host: String, _ path: String) async throws -> MiniHTTPClient.Response {
        try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: port), path: path, headers: [("Host", host)], timeout: .seconds(5))
    }

    @Test(.timeLimit(.minutes(1)))
    func environmentsShareAnAddressByHostAndPath() async throws {
        let shop = await Self.backend("shop"), api = await Self.backend("api"), staging = await Self.backend("staging")
        let proxy = ProxyServer(group: MultiThreadedEventLoopGroup.singleton, logger: quietLogger())
        let port = try PortAllocator.freePort()
        var failure: (any Error)?
        do {
            try await closing(proxy) {
                try await proxy.apply(RouteTable(generation: 1, listeners: [
                    Self.listener("production", port: port, backend: shop.port, route: RouteMatch(hosts: ["shop.example.com"])),
                    Self.listener("production-api", port: port, backend: api.port,
                                  route: RouteMatch(hosts: ["shop.example.com"], path: "/api", stripPrefix: true)),
                    Self.listener("staging", port: port, backend: staging.port, route: RouteMatch(hosts: ["staging.example.com", "*.preview.example.com"])),
                ]))
                #expect(try await Self.get(port, host: "shop.example.com", "/").bodyText == "shop /\n")
                #expect(try await Self.get(port, host: "SHOP.example.com:\(port)", "/orders").bodyText == "shop /orders\n")
                #expect(try await Self.get(port, host: "shop.example.com", "/api/orders").bodyText == "api /orders\n", "the prefix is taken off")
                #expect(try await Self.get(port, host: "staging.example.com", "/api/orders").bodyText == "staging /api/orders\n")
                #expect(try await Self.get(port, host: "pr-7.preview.example.com", "/").bodyText == "staging /\n")
                let unknown = try await Self.get(port, host: "elsewhere.example.org", "/")
                #expect(unknown.status == 404)
                #expect(!unknown.bodyText.contains("production") && !unknown.bodyText.contains("127.0.0.1"), "a 404 names nothing internal: \(unknown.bodyText)")
                // One keep-alive connection may carry requests for several hosts: each is routed on its own.
                let client = try ManualClient(port: port)
                client.send("GET / HTTP/1.1\r\nHost: staging.example.com\r\n\r\n")
                let first = String(decoding: try await client.read(until: "staging /\n"), as: UTF8.self)
                client.send("GET / HTTP/1.1\r\nHost: shop.example.com\r\n\r\n")
                let second = String(decoding: try await client.read(until: "shop /\n"), as: UTF8.self)
                #expect(first.hasPrefix("HTTP/1.1 200") && second.hasPrefix("HTTP/1.1 200"), "\(first)\n\(second)")
                // Routes change with the table: the staging host moves to its own address, the shared one drops it.
                try await proxy.apply(RouteTable(generation: 2, listeners: [
                    Self.listener("production", port: port, backend: shop.port, route: RouteMatch(hosts: ["shop.example.com"])),
                ]))
                #expect(try await Self.get(port, host: "shop.example.com", "/").bodyText == "shop /\n")
                #expect(try await Self.get(port, host: "staging.example.com", "/").status == 404)
            }
        } catch { failure = error }
        for b in [shop, api, staging] { b.task.cancel(); _ = await b.task.result }
        if let failure { throw failure }
    }
}
