import SlipwayCore
import Testing

/// Host and path routing on a shared listener (`RouteSelector`, `RouteMatch`): which environment a request
/// goes to, and what is taken off its path.
@Suite struct RouteSelectorTests {
    static let routes: [(name: String, match: RouteMatch)] = [
        ("shop", RouteMatch(hosts: ["shop.example.com"])),
        ("shop-api", RouteMatch(hosts: ["shop.example.com"], path: "/api", stripPrefix: true)),
        ("staging", RouteMatch(hosts: ["staging.example.com"])),
        ("previews", RouteMatch(hosts: ["*.preview.example.com"])),
        ("docs", RouteMatch(path: "/docs")),
    ]
    static let selector = RouteSelector(routes)

    static func pick(_ host: String?, _ target: String) -> RouteSelector.Choice? { selector.select(host: host, target: Substring(target)) }

    @Test func theHostPicksTheEnvironmentWhateverItsCasePortOrTrailingDot() {
        #expect(Self.pick("shop.example.com", "/")?.name == "shop")
        #expect(Self.pick("SHOP.Example.com:8080", "/cart")?.name == "shop")
        #expect(Self.pick("shop.example.com.", "/")?.name == "shop")
        #expect(Self.pick("staging.example.com", "/")?.name == "staging")
    }

    @Test func theLongestPathPrefixWinsOnASegmentBoundaryAndIsStrippedWhenAsked() {
        #expect(Self.pick("shop.example.com", "/api/orders?page=2") == .init(name: "shop-api", strip: "/api"))
        #expect(Self.pick("shop.example.com", "/api") == .init(name: "shop-api", strip: "/api"))
        #expect(Self.pick("shop.example.com", "/api?x=1")?.name == "shop-api")
        #expect(Self.pick("shop.example.com", "/apiary")?.name == "shop", "a prefix ends at a segment")
        #expect(Self.pick("shop.example.com", "/")?.strip == nil)
    }

    @Test func aWildcardCoversExactlyOneLabel() {
        #expect(Self.pick("pr-42.preview.example.com", "/")?.name == "previews")
        #expect(Self.pick("a.b.preview.example.com", "/")?.name != "previews")
        #expect(Self.pick("preview.example.com", "/")?.name != "previews")
    }

    @Test func anExactHostBeatsAWildcardAndAnyHostIsTheLastResort() {
        let selector = RouteSelector([("any", RouteMatch()), ("wild", RouteMatch(hosts: ["*.example.com"])),
                                      ("exact", RouteMatch(hosts: ["www.example.com"]))])
        #expect(selector.select(host: "www.example.com", target: "/")?.name == "exact")
        #expect(selector.select(host: "blog.example.com", target: "/")?.name == "wild")
        #expect(selector.select(host: "other.org", target: "/")?.name == "any")
        #expect(selector.select(host: nil, target: "/")?.name == "any", "an HTTP/1.0 request without Host")
    }

    @Test func aRequestNoRouteClaimsHasNoChoice() {
        #expect(Self.pick("unknown.example.org", "/") == nil)
        #expect(Self.pick("unknown.example.org", "/docs/intro")?.name == "docs", "a route for any host still catches its path")
        #expect(Self.pick(nil, "/") == nil)
    }

    @Test func hostsAndPathsAreValidated() {
        #expect(RouteMatch.problem(host: "shop.example.com") == nil)
        #expect(RouteMatch.problem(host: "*.preview.example.com") == nil)
        #expect(RouteMatch.problem(host: "*.com") != nil, "a wildcard over a top-level domain")
        #expect(RouteMatch.problem(host: "shop.*.example.com") != nil)
        #expect(RouteMatch.problem(host: "sh*p.example.com") != nil)
        #expect(RouteMatch.problem(host: "shop_1.example.com") != nil)
        #expect(RouteMatch.problem(host: "") != nil)
        #expect(RouteMatch.problem(path: "/api") == nil)
        #expect(RouteMatch.problem(path: "api") != nil)
        #expect(RouteMatch.problem(path: "/api/") != nil)
        #expect(RouteMatch.problem(path: "/api?x") != nil)
    }

    @Test func twoRoutesClaimingTheSameHostAndPathAreBothNamed() {
        let conflicts = RouteSelector.conflicts([("a", RouteMatch(hosts: ["x.example.com"])), ("b", RouteMatch(hosts: ["X.example.com"])),
                                                 ("c", RouteMatch(hosts: ["x.example.com"], path: "/api")), ("d", RouteMatch()), ("e", RouteMatch(path: "/"))])
        #expect(conflicts.map { "\($0.first)/\($0.second) \($0.host)\($0.path)" } == ["a/b x.example.com/", "d/e */"])
    }
}
