import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Testing
@testable import SlipwayRouter

/// Sticky routing while a canary serves beside the stable release: a client keeps the release it got.
@Suite(.serialized)
struct StickyRoutingTests {
    static func table(port: Int, canary: Int, stable: Int, sticky: StickyRouting?, weight: Int, generation: Int) -> RouteTable {
        var pools = [Pool(name: "v1", weight: 100 - weight, backends: [Backend(port: stable)])]
        if weight > 0 { pools.insert(Pool(name: "v2", weight: weight, backends: [Backend(port: canary)]), at: 0) }
        return RouteTable(generation: generation, listeners: [ListenerTable(name: "production", listen: ListenAddress(host: "127.0.0.1", port: port),
                                                                            pools: pools, sticky: sticky)])
    }

    static func get(_ port: Int, headers: [(String, String)] = []) async throws -> MiniHTTPClient.Response {
        try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: port), path: "/", headers: headers, timeout: .seconds(5))
    }

    /// Runs `body` with a stable backend ("a", pool v1) and a canary one ("b", pool v2) behind a proxy; all are stopped and awaited.
    static func withProxy(_ body: (ProxyServer, Int, Int, Int) async throws -> Void) async throws {
        let a = try await RouterTests.backend("a"), b = try await RouterTests.backend("b")
        let proxy = ProxyServer(group: MultiThreadedEventLoopGroup.singleton, logger: quietLogger())
        let port = try PortAllocator.freePort()
        var failure: (any Error)?
        do { try await closing(proxy) { try await body(proxy, port, a.port, b.port) } } catch { failure = error }
        a.task.cancel()
        b.task.cancel()
        _ = await a.task.result
        _ = await b.task.result
        if let failure { throw failure }
    }

    /// With a cookie, a client keeps the release it first got while the canary's weight grows, and is
    /// moved (and told so) only when its release stops serving.
    @Test(.timeLimit(.minutes(1)))
    func aCookieKeepsAClientOnItsRelease() async throws {
        try await Self.withProxy { proxy, port, stable, canary in
            let sticky = StickyRouting.cookie("slipway-canary")
            try await proxy.apply(Self.table(port: port, canary: canary, stable: stable, sticky: sticky, weight: 20, generation: 1))
            var clients: [(cookie: String, body: String)] = []
            for _ in 0..<100 {
                let r = try await Self.get(port)
                let set = try #require(r.header("set-cookie"), "a client without the cookie is given one")
                #expect(set.hasSuffix("; Path=/; HttpOnly; SameSite=Lax"))
                let cookie = String(set.prefix { $0 != ";" })
                #expect(cookie == (r.bodyText.contains("backend b") ? "slipway-canary=v2" : "slipway-canary=v1"), "the cookie names the release that answered: \(cookie) \(r.bodyText)")
                clients.append((cookie, r.bodyText))
            }
            let onCanary = clients.filter { $0.body.contains("backend b") }.count
            #expect(onCanary > 5 && onCanary < 40, "about 20% of new clients get the canary: \(onCanary)")
            for (generation, weight) in [(2, 50), (3, 90)] {
                try await proxy.apply(Self.table(port: port, canary: canary, stable: stable, sticky: sticky, weight: weight, generation: generation))
                for c in clients {
                    let r = try await Self.get(port, headers: [("Cookie", "theme=dark; \(c.cookie); lang=en")])
                    #expect(r.bodyText == c.body, "a client with \(c.cookie) flipped at \(weight)%")
                    #expect(r.header("set-cookie") == nil, "a client that has its release is not told again")
                }
            }
            // Aborted: the canary's clients go back to the stable release and are told.
            try await proxy.apply(Self.table(port: port, canary: canary, stable: stable, sticky: sticky, weight: 0, generation: 4))
            let r = try await Self.get(port, headers: [("Cookie", "slipway-canary=v2")])
            #expect(r.bodyText == "backend a\n" && r.header("set-cookie") == nil, "one release serves: no cookie is needed")
        }
    }

    /// With a header, the value's hash picks the release: the canary takes the lowest buckets, so a user on
    /// it stays as its weight grows and a user on the stable release never bounces back and forth.
    @Test(.timeLimit(.minutes(1)))
    func aHeaderKeepsAUserOnItsRelease() async throws {
        try await Self.withProxy { proxy, port, stable, canary in
            let sticky = StickyRouting.header("X-User-Id")
            var history: [String: [Bool]] = [:]
            for (generation, weight) in [(1, 5), (2, 25), (3, 50)] {
                try await proxy.apply(Self.table(port: port, canary: canary, stable: stable, sticky: sticky, weight: weight, generation: generation))
                for user in 0..<200 {
                    let first = try await Self.get(port, headers: [("X-User-Id", "user-\(user)")])
                    let again = try await Self.get(port, headers: [("x-user-id", "user-\(user)")])
                    #expect(first.bodyText == again.bodyText, "user-\(user) flipped within one step")
                    history["user-\(user)", default: []].append(first.bodyText.contains("backend b"))
                }
                let share = history.values.filter { $0.last == true }.count
                #expect(abs(share - 2 * weight) <= 2 * weight / 2 + 8, "\(share) of 200 users on the canary at \(weight)%")
            }
            for (user, seen) in history {
                #expect(seen == seen.sorted { !$0 && $1 }, "\(user) went canary → stable: \(seen)")
            }
        }
    }

    /// A backend that answers every request with 500.
    static func failing() async throws -> (port: Int, task: Task<Void, any Error>) {
        let router = Router()
        router.on("/", method: .get) { _, _ -> Response in Response(status: .internalServerError, body: .init(byteBuffer: ByteBuffer(string: "canary broke\n"))) }
        router.on("/", method: .post) { _, _ -> Response in Response(status: .internalServerError, body: .init(byteBuffer: ByteBuffer(string: "canary broke\n"))) }
        return await RouterTests.serve(router)
    }

    /// `retry_on_stable`: users never see the canary's 5xx on a GET; analysis still does. A POST is not repeated.
    @Test(.timeLimit(.minutes(1)))
    func aCanarysFailedGetIsAnsweredByTheStableRelease() async throws {
        let a = try await RouterTests.backend("a"), bad = try await Self.failing()
        let proxy = ProxyServer(group: MultiThreadedEventLoopGroup.singleton, logger: quietLogger())
        let port = try PortAllocator.freePort()
        var failure: (any Error)?
        do {
            try await closing(proxy) {
                var table = Self.table(port: port, canary: bad.port, stable: a.port, sticky: nil, weight: 50, generation: 1)
                table.listeners[0].retryCanary = "v2"
                try await proxy.apply(table)
                for _ in 0..<60 {
                    let r = try await Self.get(port)
                    #expect(r.status == 200 && r.bodyText == "backend a\n", "\(r.status) \(r.bodyText)")
                }
                // A POST is never sent twice: one that reached the canary keeps its 500.
                var posts: [Int] = []
                for _ in 0..<20 {
                    posts.append(try await MiniHTTPClient().request("POST", .tcp(host: "127.0.0.1", port: port), path: "/", body: Array("x".utf8), timeout: .seconds(5)).status)
                }
                #expect(posts.contains(500) && posts.contains { $0 != 500 }, "\(posts)")
                let stats = try await poll(within: .seconds(5)) { () async -> [String: PoolStatsSnapshot]? in
                    let s = await proxy.registry.report()["production"]
                    return (s?.values.allSatisfy { $0.inflight == 0 } ?? false) ? s : nil
                }
                let canary = try #require(stats["v2"]), stable = try #require(stats["v1"])
                #expect(canary.responses5xx > 10, "the canary's failures are counted for analysis: \(canary)")
                #expect(stable.responses2xx >= 60, "every GET was answered by the stable release: \(stable)")
                #expect(canary.requests + stable.requests == 80 + canary.responses5xx - posts.filter { $0 == 500 }.count,
                        "each retried GET counts once in each pool: \(canary.requests) + \(stable.requests)")
                // Without the flag, users see the canary's failures.
                table.generation = 2
                table.listeners[0].retryCanary = nil
                try await proxy.apply(table)
                var failed = 0
                for _ in 0..<40 where try await Self.get(port).status == 500 { failed += 1 }
                #expect(failed > 5, "\(failed) of 40 failed without retry_on_stable")
            }
        } catch { failure = error }
        a.task.cancel()
        bad.task.cancel()
        _ = await a.task.result
        _ = await bad.task.result
        if let failure { throw failure }
    }
}
