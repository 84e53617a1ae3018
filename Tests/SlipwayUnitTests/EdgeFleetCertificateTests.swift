import Foundation
import Logging
import SlipwayACME
import SlipwayCore
@testable import SlipwayRouter
import Synchronization
import Testing

/// A fleet's certificate on the shared edge: an app proves and serves only names it routes there.
@Suite struct EdgeFleetCertificateTests {
    @Test func aRouteCoversItsNamesAndOneLabelUnderAWildcard() {
        let m = RouteMatch(hosts: ["shop.test", "*.preview.shop.test"])
        #expect(m.covers("shop.test") && m.covers("SHOP.test.") && m.covers("shop.test:443"))
        #expect(m.covers("pr-7.preview.shop.test") && m.covers("*.preview.shop.test"))
        #expect(!m.covers("a.b.preview.shop.test") && !m.covers("blog.test") && !m.covers("*.shop.test") && !m.covers("preview.shop.test"))
        #expect(!RouteMatch().covers("shop.test"), "a route for any host covers no name in particular")
    }

    @Test func anAppsHTTP01AnswerIsGivenOnlyForTheHostsItRoutes() async {
        let board = ChallengeBoard()
        let shop = RouteMatch(hosts: ["shop.test"])
        board.publish(.http01(token: "t1", keyAuthorization: "t1.key"), scope: shop)
        #expect(board.http01(token: "t1", host: "shop.test:80") == "t1.key")
        #expect(board.http01(token: "t1", host: "blog.test") == nil, "another app's host does not get it")
        #expect(board.http01(token: "t1", host: nil) == nil)
        await board.publish(.http01(token: "t2", keyAuthorization: "t2.key"))
        #expect(board.http01(token: "t2", host: "anything.test") == "t2.key", "the edge's own orders answer on any host")
        board.withdraw(.http01(token: "t1", keyAuthorization: ""), scope: RouteMatch(hosts: ["blog.test"]))
        #expect(board.http01(token: "t1", host: "shop.test") == "t1.key", "another app cannot take it down")
        board.withdraw(.http01(token: "t1", keyAuthorization: ""), scope: shop)
        #expect(board.http01(token: "t1", host: "shop.test") == nil)
        #expect(board.pendingHTTP.load(ordering: .relaxed) == 1)
    }

    static func table(hosts: [String], fleet: Bool = true) -> RouteTable {
        var l = ListenerTable(name: "production", listen: ListenAddress(host: "0.0.0.0", port: 80))
        l.route = RouteMatch(hosts: hosts)
        l.tls = RouterTLS(listen: ListenAddress(host: "0.0.0.0", port: 443), certFile: "/c", keyFile: "/k",
                          acme: ACMEOptions(storage: "/app/acme").with(fleet: fleet))
        return RouteTable(listeners: [l])
    }

    @Test func aCertificateGoesOnlyIntoTheAppsOwnFleetListenerAndNamesOnlyItsHosts() async throws {
        let dir = NSTemporaryDirectory() + "edge-fleet-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let registry = EdgeRegistry(directory: dir, logger: Logger(label: "test"))
        try await registry.register(app: "shop", table: Self.table(hosts: ["shop.test", "*.preview.shop.test"]), uid: 1000) { _ throws(SlipwayError) in }
        try await registry.register(app: "blog", table: Self.table(hosts: ["blog.test"], fleet: false), uid: 1001) { _ throws(SlipwayError) in }

        let files = try await registry.fleetCertificateFiles(app: "shop", environment: "production", uid: 1000, names: ["shop.test", "pr-1.preview.shop.test"])
        #expect(files.cert == dir + "/acme/shop/certs/production.crt" && files.key == dir + "/acme/shop/certs/production.key")
        #expect(try await registry.fleetCertificateFiles(app: "shop", environment: "production", uid: 0, names: ["shop.test"]).cert == files.cert, "root may")
        func code(_ body: () async throws -> Void) async -> SlipwayError.Code? {
            do { try await body(); return nil } catch { return (error as? SlipwayError)?.code }
        }
        #expect(await code { _ = try await registry.fleetCertificateFiles(app: "shop", environment: "production", uid: 1000, names: ["shop.test", "blog.test"]) } == .policy)
        #expect(await code { _ = try await registry.fleetCertificateFiles(app: "shop", environment: "production", uid: 1001, names: ["shop.test"]) } == .policy)
        #expect(await code { _ = try await registry.fleetCertificateFiles(app: "blog", environment: "production", uid: 1001, names: ["blog.test"]) } == .usage,
                "a listener whose certificate the edge orders itself takes none")
        #expect(await code { _ = try await registry.fleetCertificateFiles(app: "shop", environment: "staging", uid: 1000, names: ["shop.test"]) } == .usage)
        #expect(await code { _ = try await registry.fleetCertificateFiles(app: "nope", environment: "production", uid: 0, names: ["shop.test"]) } == .notFound)
        #expect(try await registry.claims(app: "shop", uid: 1000).hosts == ["shop.test", "*.preview.shop.test"])
        #expect(await code { _ = try await registry.claims(app: "shop", uid: 1001) } == .policy)
    }
}

extension ACMEOptions {
    func with(fleet: Bool) -> ACMEOptions {
        var copy = self
        copy.fleet = fleet ? true : nil
        return copy
    }
}
