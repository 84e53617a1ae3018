import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import Testing

/// Staging and production of one app on one listen address, told apart by host, with real daemons,
/// routers and instances: each host reaches its own environment's release, and a deploy to one never
/// changes what the other serves.
@Suite(.serialized)
struct SharedListenerTests {
    static func release(_ port: Int, host: String) async throws -> String {
        let r = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: port), path: "/", headers: [("Host", host)], timeout: .seconds(5))
        guard r.status == 200, let at = r.bodyText.range(of: "demo-app ") else { return "\(r.status)" }
        return String(r.bodyText[at.upperBound...].prefix { $0 != " " && $0 != "\n" })
    }

    @Test(.timeLimit(.minutes(2)))
    func stagingAndProductionShareOneAddressByHost() async throws {
        let s = try Sandbox(extra: """
            environments:
              staging: { router: { hosts: [staging.shop.test] } }
              production: { router: { hosts: [shop.test, www.shop.test] } }
            """)
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            _ = try await s.release("v2")
            let prod = try await s.client.post("/v1/deployments", DeployRequest(version: "v1", environment: "production", strategy: nil, kind: .deploy, actor: "test"),
                                               as: DeploymentInfo.self)
            #expect(try await s.outcome(prod).state == .succeeded)
            let staging = try await s.client.post("/v1/deployments", DeployRequest(version: "v2", environment: "staging", strategy: nil, kind: .deploy, actor: "test"),
                                                  as: DeploymentInfo.self)
            #expect(try await s.outcome(staging).state == .succeeded)
            #expect(try await Self.release(s.port, host: "shop.test") == "v1")
            #expect(try await Self.release(s.port, host: "WWW.shop.test:\(s.port)") == "v1")
            #expect(try await Self.release(s.port, host: "staging.shop.test") == "v2")
            #expect(try await Self.release(s.port, host: "other.test") == "404")
        }
    }
}
