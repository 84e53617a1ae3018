import Testing
@testable import SlipwayCore

/// On a shared edge: which registrations are refused, each naming the app that holds the claim.
@Suite struct EdgeClaimsTests {
    static func listener(_ name: String, hosts: [String] = [], path: String? = nil, port: Int = 80, tlsPort: Int? = nil) -> ListenerTable {
        var l = ListenerTable(name: name, listen: ListenAddress(host: "0.0.0.0", port: port), pools: [])
        if !hosts.isEmpty || path != nil { l.route = RouteMatch(hosts: hosts, path: path) }
        if let tlsPort { l.tls = RouterTLS(listen: ListenAddress(host: "0.0.0.0", port: tlsPort), certFile: "/c", keyFile: "/k") }
        return l
    }

    @Test func appsWithTheirOwnHostsShareAddresses() {
        let others = ["shop": [Self.listener("production", hosts: ["shop.test"], tlsPort: 443), Self.listener("staging", hosts: ["staging.shop.test"], tlsPort: 443)]]
        #expect(EdgeClaims.refusals(app: "blog", listeners: [Self.listener("production", hosts: ["blog.test"], tlsPort: 443)], others: others).isEmpty)
        // An app re-registering its own routes is never refused by its old ones.
        #expect(EdgeClaims.refusals(app: "shop", listeners: others["shop"]!, others: others).isEmpty)
        // The same host on another path is another route.
        #expect(EdgeClaims.refusals(app: "api", listeners: [Self.listener("production", hosts: ["shop.test"], path: "/api", tlsPort: 443)], others: others).isEmpty)
    }

    @Test func aHostAnotherAppHoldsEveryHostOrTheOtherProtocolIsRefusedNamingTheOwner() {
        let others = ["shop": [Self.listener("production", hosts: ["shop.test"], tlsPort: 443)]]
        #expect(EdgeClaims.refusals(app: "blog", listeners: [Self.listener("production", hosts: ["blog.test", "shop.test"], tlsPort: 443)], others: others)
                == ["host shop.test with path / on 0.0.0.0:80 is held by app 'shop' (environment 'production')",
                    "host shop.test with path / on 0.0.0.0:443 is held by app 'shop' (environment 'production')"])
        let catchAll = EdgeClaims.refusals(app: "blog", listeners: [Self.listener("production", port: 80)], others: ["shop": [Self.listener("production", port: 80)]])
        #expect(catchAll == ["every host with path / on 0.0.0.0:80 is held by app 'shop' (environment 'production')"])
        let mixed = EdgeClaims.refusals(app: "blog", listeners: [Self.listener("production", hosts: ["blog.test"], port: 443)], others: others)
        #expect(mixed == ["0.0.0.0:443 is HTTPS for app 'shop' (environment 'production'); one address speaks one of them"])
        #expect(EdgeClaims.refusals(app: "blog", listeners: [Self.listener("a/b", hosts: ["blog.test"])], others: [:]) == ["'a/b' is not an environment name"])
    }
}
