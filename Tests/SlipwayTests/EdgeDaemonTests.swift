import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Testing

/// HTTPS through the daemon's own router process: the config's certificate files go with the route table,
/// plain HTTP is redirected, and the certificate is reported (`slipway certs`, `/metrics`) and alerted on
/// before it expires.
@Suite(.serialized)
struct EdgeDaemonTests {
    @Test(.timeLimit(.minutes(2)))
    func theDaemonsRouterServesHTTPSReportsTheCertificateAndAlertsBeforeItExpires() async throws {
        let tlsPort = try PortAllocator.freePort(), api = try PortAllocator.freePort()
        let certsDir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-edge-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: certsDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: certsDir) }
        // Valid for an hour: well inside the 14 days the built-in alert warns about.
        let certs = try TestCertificates(in: certsDir, name: "shop", hosts: ["localhost"])
        let s = try Sandbox(extra: """
            server: { listen: "127.0.0.1:\(api)" }
            environments:
              production:
                router: { listen_tls: "127.0.0.1:\(tlsPort)", tls: { cert: \(certs.certFile), key: \(certs.keyFile) }, hsts: 1d }
            """)
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let https = MiniHTTPClient(tls: try MiniHTTPClient.tlsContext(caFile: certs.caFile))
            let r = try await https.request("GET", .tcp(host: "localhost", port: tlsPort), path: "/")
            #expect(r.status == 200 && r.bodyText.hasPrefix("hello from demo-app v1") && r.header("strict-transport-security") == "max-age=86400", "\(r.status) \(r.bodyText)")
            let plain = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: s.port), path: "/cart", headers: [("Host", "localhost")])
            #expect(plain.status == 308 && plain.header("location") == "https://localhost:\(tlsPort)/cart", "\(plain.status) \(plain.header("location") ?? "")")

            let listed = try await s.cli(["certs", "--json"])
            #expect(listed.status == 0, "\(listed.text)")
            let list = try SlipwayJSON.decoder().decode([CertificateInfo].self, from: Data(listed.text.utf8))
            let cert = try #require(list.first)
            #expect(list.count == 1 && cert.environment == "production" && cert.address == "127.0.0.1:\(tlsPort)" && cert.names == ["localhost"])
            #expect(cert.issuer?.contains("Slipway shop CA") == true && cert.error == nil, "\(cert)")
            let left = try #require(cert.notAfter).timeIntervalSinceNow
            #expect(left > 3000 && left <= 3600, "\(left)")
            let table = try await s.cli(["certs"])
            #expect(table.text.contains("production") && table.text.contains("localhost") && table.text.contains("DAYS LEFT"), "\(table.text)")
            // The dashboard's environment page lists it, its days left marked as soon.
            let login = try await s.cli(["dashboard"])
            let url = try #require(login.text.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("http://") }.map(String.init), "\(login.text)")
            let session = try await DashboardBrowserTests.session(url, api: api)
            let page = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/ui/env/production", headers: [("Cookie", session.cookie)]).bodyText
            let certs = try #require(page.range(of: "<table id=\"certificates\">").map { String(page[$0.lowerBound...].prefix(1200)) }, "\(page.prefix(3000))")
            #expect(certs.contains("<td>localhost</td>") && certs.contains("<td>file</td>") && certs.contains("Slipway shop CA") && certs.contains("<td class=\"bad\">0</td>"), "\(certs)")

            let firing = try await poll(within: .seconds(20)) { () async throws -> AlertInfo? in
                let all: [AlertInfo] = try await s.client.get("/v1/alerts")
                return all.first { $0.name == "certificate-expiring" && $0.state == .firing }
            }
            #expect(firing.severity == .p1 && firing.builtIn && firing.summary.contains("the certificate for") && firing.summary.contains("less than a day"),
                    "\(firing.summary)")
            let token: TokenCreated = try await s.client.post("/v1/tokens", TokenCreateRequest(user: "prometheus", roles: [.viewer], expires: nil))
            let metrics = try await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: api), path: "/metrics",
                                                             headers: [("Authorization", "Bearer \(token.token)")]).bodyText
            let line = metrics.split(separator: "\n").first { $0.hasPrefix(#"slipway_certificate_expiry_seconds{environment="production",host="localhost"} "#) }
            let seconds = line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
            #expect(seconds.map { $0 > 3000 && $0 <= 3600 } == true, "\(line.map(String.init) ?? "no line")")
        }
    }
}
