import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Synchronization
import Hummingbird
import Testing

/// `tls: acme` against a real RFC 8555 CA (Debian's pebble): the daemon's router serves a placeholder, proves
/// control of its names over HTTP-01 and TLS-ALPN-01 on its own listeners, serves what the CA issued to curl
/// (HTTP/1.1 and HTTP/2), and renews it before it expires.
@Suite(.serialized)
struct ACMETests {
    @Test(.timeLimit(.minutes(2)), .enabled(if: Pebble.canRun, Comment(rawValue: Pebble.skipNote)))
    func certificatesAreIssuedThroughBothChallengesServedAndRenewedBeforeTheyExpire() async throws {
        let plain = try PortAllocator.freePort(), secure = try PortAllocator.freePort()
        let dir = try EdgeTLSTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Certificates valid 9 s: renewed at two thirds of that (6 s).
        let pebble = try await Pebble.start(httpPort: plain, tlsPort: secure, validity: 9, in: dir)
        do {
            let acme = "directory: \"\(pebble.directory)\", ca: \(pebble.apiCA), email: ops@shop.test"
            let s = try Sandbox(extra: """
                environments:
                  production:
                    router: { listen: "127.0.0.1:\(plain)", hosts: [shop.test], listen_tls: "127.0.0.1:\(secure)", tls: acme, http2: true, acme: { \(acme) } }
                  staging:
                    router: { listen: "127.0.0.1:\(plain)", hosts: [staging.shop.test], listen_tls: "127.0.0.1:\(secure)", tls: acme, acme: { \(acme), challenge: tls-alpn-01 } }
                """)
            try await s.withDaemon { _ in
                _ = try await s.release("v1")
                for environment in ["production", "staging"] {
                    let deployed: DeploymentInfo = try await s.client.post("/v1/deployments", DeployRequest(version: "v1", environment: environment, strategy: nil, kind: .deploy, actor: "test"))
                    #expect(try await s.outcome(deployed).state == .succeeded)
                }
                // Both issued: the router asked pebble, answered its challenges on :plain (HTTP-01) and :secure (TLS-ALPN-01).
                let issued = try await poll(within: .seconds(40), every: .milliseconds(200)) { () async throws -> [CertificateInfo]? in
                    let listed = try await s.cli(["certs", "--json"])
                    guard listed.status == 0 else { return nil }
                    let list = try SlipwayJSON.decoder().decode([CertificateInfo].self, from: Data(listed.text.utf8))
                    return list.count == 2 && list.allSatisfy { $0.acme?.placeholder == false } ? list : nil
                }
                for cert in issued {
                    #expect(cert.issuer?.contains("Pebble") == true && cert.acme?.lastRenewal != nil && cert.acme?.failures == 0, "\(cert)")
                    #expect(cert.names == [cert.environment == "production" ? "shop.test" : "staging.shop.test"], "\(cert)")
                }
                let root = try await pebble.rootFile()
                let h1 = try EdgeTLSTests.curl("https://shop.test:\(secure)/", resolve: ["shop.test:\(secure)"], ca: root)
                #expect(h1.hasPrefix("HTTP/1.1 200") && h1.contains("hello from demo-app v1"), "\(h1)")
                let h2 = try EdgeTLSTests.curl("https://shop.test:\(secure)/", resolve: ["shop.test:\(secure)"], ca: root, extra: ["--http2"])
                #expect(h2.hasPrefix("HTTP/2 200") && h2.contains("hello from demo-app v1"), "\(h2)")
                let staging = try EdgeTLSTests.curl("https://staging.shop.test:\(secure)/", resolve: ["staging.shop.test:\(secure)"], ca: root)
                #expect(staging.hasPrefix("HTTP/1.1 200") && staging.contains("hello from demo-app v1"), "\(staging)")
                // The account key and certificates are the router's alone.
                for file in ["account.key", "certs/production.key", "certs/production.crt", "state.json"] {
                    let mode = try FileManager.default.attributesOfItem(atPath: s.config.root + "/acme/" + file)[.posixPermissions] as? Int
                    #expect(mode == 0o600, "\(file): \(String(mode ?? 0, radix: 8))")
                }

                // Renewed at two thirds of the lifetime: a new certificate, served without a failed request.
                let first = try #require(issued.first { $0.environment == "production" }?.notAfter)
                let renewed = try await poll(within: .seconds(40), every: .milliseconds(250)) { () async throws -> CertificateInfo? in
                    let h = try EdgeTLSTests.curl("https://shop.test:\(secure)/", resolve: ["shop.test:\(secure)"], ca: root)
                    #expect(h.hasPrefix("HTTP/1.1 200"), "\(h)")
                    let list = try SlipwayJSON.decoder().decode([CertificateInfo].self, from: Data(try await s.cli(["certs", "--json"]).text.utf8))
                    return list.first { $0.environment == "production" && ($0.notAfter ?? first) > first }
                }
                #expect(renewed.acme?.failures == 0 && renewed.acme?.placeholder == false, "\(renewed)")
            }
        } catch {
            print("pebble.log:\n\(pebble.log().suffix(4000))")
            await pebble.stop()
            throw error
        }
        await pebble.stop()
    }

    @Test(.timeLimit(.minutes(1)))
    func aCAThatIsDownIsRetriedLaterReportedAndAlertedWhileThePlaceholderServes() async throws {
        let secure = try PortAllocator.freePort(), closed = try PortAllocator.freePort()
        let s = try Sandbox(extra: """
            environments:
              production:
                router: { hosts: [shop.test], listen_tls: "127.0.0.1:\(secure)", tls: acme, acme: { directory: "https://127.0.0.1:\(closed)/dir" } }
            """)
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let cert = try await poll(within: .seconds(20), every: .milliseconds(200)) { () async throws -> CertificateInfo? in
                let list = try SlipwayJSON.decoder().decode([CertificateInfo].self, from: Data(try await s.cli(["certs", "--json"]).text.utf8))
                return list.first { ($0.acme?.failures ?? 0) > 0 }
            }
            let acme = try #require(cert.acme)
            #expect(acme.placeholder && acme.lastError?.contains("cannot reach the ACME CA at https://127.0.0.1:\(closed)") == true, "\(acme)")
            // Backed off: the next attempt is about a minute away, not the next second.
            let wait = try #require(acme.nextAttempt).timeIntervalSinceNow
            #expect(wait > 30 && wait <= 72, "\(wait)")
            let table = try await s.cli(["certs"])
            #expect(table.text.contains("acme (pending)") && table.text.contains("renewal failed 1x"), "\(table.text)")
            // The placeholder serves (clients that skip verification get the app; the others refuse it).
            let h = try EdgeTLSTests.curl("https://shop.test:\(secure)/", resolve: ["shop.test:\(secure)"], ca: nil, extra: ["-k"])
            #expect(h.hasPrefix("HTTP/1.1 200") && h.contains("hello from demo-app v1"), "\(h)")
            let firing = try await poll(within: .seconds(20)) { () async throws -> AlertInfo? in
                let all: [AlertInfo] = try await s.client.get("/v1/alerts")
                return all.first { $0.name == "certificate-renewal-failed" && $0.state == .firing }
            }
            #expect(firing.severity == .p2 && firing.summary.contains("getting a certificate for shop.test failed 1 time(s)") && firing.summary.contains("placeholder"),
                    "\(firing.summary)")
            let all: [AlertInfo] = try await s.client.get("/v1/alerts")
            #expect(all.first { $0.name == "certificate-expiring" }?.state != .firing, "the placeholder is not an expiring certificate")
        }
    }

    /// An ask endpoint for on-demand TLS: approves `approved` (200), refuses every other name (403), counts what it was asked.
    final class Asked: Sendable {
        let names = Mutex<[String]>([])
        func append(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }
    }

    static func askEndpoint(approving approved: String) async throws -> (port: Int, asked: Asked, task: Task<Void, any Error>) {
        let asked = Asked()
        let router = Router()
        router.get("/tls-allowed") { request, _ -> Response in
            let name = request.uri.queryParameters.get("domain") ?? ""
            asked.append(name)
            return Response(status: name == approved ? .ok : .forbidden)
        }
        let port = try PortAllocator.freePort()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: quietLogger())
        let task = Task { try await app.runService() }
        _ = try await poll(within: .seconds(10)) { () async -> Bool? in
            (try? await MiniHTTPClient().request("GET", .tcp(host: "127.0.0.1", port: port), path: "/health"))?.status != nil ? true : nil
        }
        return (port, asked, task)
    }

    @Test(.timeLimit(.minutes(2)), .enabled(if: Pebble.canRun, Comment(rawValue: Pebble.skipNote)))
    func onDemandAnApprovedNameGetsACertificateAtItsFirstHandshakeARefusedOneNoCARequest() async throws {
        let plain = try PortAllocator.freePort(), secure = try PortAllocator.freePort()
        let dir = try EdgeTLSTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ask = try await Self.askEndpoint(approving: "approved.test")
        let pebble = try await Pebble.start(httpPort: plain, tlsPort: secure, in: dir)
        do {
            // No hosts: the route takes every name (customers' own domains); each gets its certificate on demand.
            let s = try Sandbox(extra: """
                environments:
                  production:
                    router: { listen: "127.0.0.1:\(plain)", listen_tls: "127.0.0.1:\(secure)", tls: acme,
                              acme: { directory: "\(pebble.directory)", ca: \(pebble.apiCA), on_demand: { ask: "http://127.0.0.1:\(ask.port)/tls-allowed" } } }
                """)
            try await s.withDaemon { _ in
                _ = try await s.release("v1")
                #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
                let root = try await pebble.rootFile()
                // The first handshake waits while the router asks, then the CA, then serves the new certificate.
                let first = try EdgeTLSTests.curl("https://approved.test:\(secure)/", resolve: ["approved.test:\(secure)"], ca: root, extra: ["--max-time", "30"])
                #expect(first.hasPrefix("HTTP/1.1 200") && first.contains("hello from demo-app v1"), "\(first)")
                let again = try EdgeTLSTests.curl("https://approved.test:\(secure)/", resolve: ["approved.test:\(secure)"], ca: root)
                #expect(again.hasPrefix("HTTP/1.1 200"), "\(again)")
                // Refused: the handshake gets the placeholder (curl refuses it), and the CA never hears of the name.
                for _ in 0..<2 {
                    let refused = try EdgeTLSTests.curl("https://refused.test:\(secure)/", resolve: ["refused.test:\(secure)"], ca: root)
                    #expect(!refused.contains("HTTP/1.1 200"), "\(refused)")
                }
                #expect(ask.asked.all == ["approved.test", "refused.test"], "asked once each: \(ask.asked.all)")
                #expect(pebble.log().contains("approved.test") && !pebble.log().contains("refused.test"))
                let files = ACMEOptions.onDemandFiles(storage: s.config.root + "/acme", environment: "production", name: "approved.test")
                #expect(try FileManager.default.attributesOfItem(atPath: files.key)[.posixPermissions] as? Int == 0o600)
            }
        } catch {
            print("pebble.log:\n\(pebble.log().suffix(4000))")
            await pebble.stop()
            ask.task.cancel()
            _ = await ask.task.result
            throw error
        }
        await pebble.stop()
        ask.task.cancel()
        _ = await ask.task.result
    }
}
