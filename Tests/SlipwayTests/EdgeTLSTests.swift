import Foundation
import NIOPosix
import NIOSSL
import SlipwayCore
import SlipwayHTTP
@testable import SlipwayRouter
import SlipwayRuntime
import Synchronization
import Testing

/// HTTPS at the router from certificate files: SNI picks each environment's certificate on one shared
/// address, requests go on with `X-Forwarded-Proto: https` and come back with HSTS, plain HTTP is
/// redirected (except ACME's challenge path), unknown hosts get 404, and a certificate replaced on disk
/// serves the next handshakes without failing a request. Real sockets and curl; no daemon.
@Suite(.serialized)
struct EdgeTLSTests {
    static func directory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-tls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// curl's answer: status line, headers and body (`-i`), names resolved to 127.0.0.1; HTTP/1.1 unless `extra` asks for `--http2`.
    static func curl(_ url: String, resolve: [String], ca: String?, extra: [String] = []) throws -> String {
        let args = ["-sS", "-i", "--max-time", "10"] + (extra.contains("--http2") ? [] : ["--http1.1"]) + (ca.map { ["--cacert", $0] } ?? []) + resolve.flatMap { ["--resolve", "\($0):127.0.0.1"] } + extra + [url]
        return try RouterTests.curl(args)
    }

    @Test(.timeLimit(.minutes(1)))
    func sharedHTTPSAddressPicksCertificatesByNameRedirectsAndSetsHSTS() async throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shopCert = try TestCertificates(in: dir, name: "shop", hosts: ["shop.test"])
        let previewCert = try TestCertificates(in: dir, name: "preview", hosts: ["*.preview.test"])
        let a = try await RouterTests.backend("a"), b = try await RouterTests.backend("b")
        try await stopping([a.task, b.task]) {
            let plain = try PortAllocator.freePort(), secure = try PortAllocator.freePort()
            func address(_ port: Int) -> ListenAddress { ListenAddress(host: "127.0.0.1", port: port) }
            var shop = ListenerTable(name: "shop", listen: address(plain), pools: [Pool(name: "v1", backends: [Backend(port: a.port)])])
            shop.route = RouteMatch(hosts: ["shop.test"])
            shop.tls = RouterTLS(listen: address(secure), certFile: shopCert.certFile, keyFile: shopCert.keyFile, redirect: true, hstsSeconds: 86_400, http2: true)
            var preview = ListenerTable(name: "preview", listen: address(plain), pools: [Pool(name: "v1", backends: [Backend(port: b.port)])])
            preview.route = RouteMatch(hosts: ["*.preview.test"])
            preview.tls = RouterTLS(listen: address(secure), certFile: previewCert.certFile, keyFile: previewCert.keyFile, redirect: false)
            let proxy = ProxyServer(group: MultiThreadedEventLoopGroup.singleton, logger: quietLogger())
            try await proxy.apply(RouteTable(generation: 1, listeners: [shop, preview]))
            try await closing(proxy) {
                // Each name gets its own certificate (curl checks the name against it), and its own environment.
                let https = try Self.curl("https://shop.test:\(secure)/headers", resolve: ["shop.test:\(secure)"], ca: shopCert.caFile,
                                          extra: ["-H", "X-Forwarded-Proto: http"])
                #expect(https.hasPrefix("HTTP/1.1 200"), "\(https)")
                #expect(https.lowercased().contains("strict-transport-security: max-age=86400"), "\(https)")
                let proto = https.lowercased().components(separatedBy: "\n").filter { $0.hasPrefix("x-forwarded-proto:") }
                #expect(proto == ["x-forwarded-proto: https"], "the router says the scheme, whatever the client claimed: \(proto)")
                let wildcard = try Self.curl("https://pr-7.preview.test:\(secure)/", resolve: ["pr-7.preview.test:\(secure)"], ca: previewCert.caFile)
                #expect(wildcard.hasPrefix("HTTP/1.1 200") && wildcard.hasSuffix("backend b\n"), "\(wildcard)")
                #expect(!wildcard.lowercased().contains("strict-transport-security"), "no hsts: configured, none sent")
                // Plain HTTP: shop redirects (keeping path and query), except ACME's HTTP-01 path; preview does not redirect.
                let redirected = try Self.curl("http://shop.test:\(plain)/cart/items?page=2", resolve: ["shop.test:\(plain)"], ca: nil)
                #expect(redirected.hasPrefix("HTTP/1.1 308"), "\(redirected)")
                #expect(redirected.lowercased().contains("location: https://shop.test:\(secure)/cart/items?page=2\r\n"), "\(redirected)")
                let challenge = try Self.curl("http://shop.test:\(plain)/.well-known/acme-challenge/token-1", resolve: ["shop.test:\(plain)"], ca: nil)
                #expect(!challenge.hasPrefix("HTTP/1.1 308") && challenge.hasPrefix("HTTP/1.1 404"), "answered by the instance: \(challenge)")
                let plainPreview = try Self.curl("http://pr-7.preview.test:\(plain)/", resolve: ["pr-7.preview.test:\(plain)"], ca: nil)
                #expect(plainPreview.hasSuffix("backend b\n"), "\(plainPreview)")
                // HTTP/2 when the client offers it (ALPN), HTTP/1.1 when it does not; bodies both ways over h2.
                let h2 = try Self.curl("https://shop.test:\(secure)/", resolve: ["shop.test:\(secure)"], ca: shopCert.caFile, extra: ["--http2"])
                #expect(h2.hasPrefix("HTTP/2 200") && h2.hasSuffix("backend a\n") && h2.contains("strict-transport-security: max-age=86400"), "\(h2)")
                let h1 = try Self.curl("https://shop.test:\(secure)/", resolve: ["shop.test:\(secure)"], ca: shopCert.caFile, extra: ["--http1.1"])
                #expect(h1.hasPrefix("HTTP/1.1 200") && h1.hasSuffix("backend a\n"), "\(h1)")
                let upload = try Self.curl("https://shop.test:\(secure)/echo", resolve: ["shop.test:\(secure)"], ca: shopCert.caFile,
                                           extra: ["--http2", "-X", "POST", "--data-binary", String(repeating: "x", count: 100_000)])
                #expect(upload.hasSuffix("a got 100000 bytes sum \(100_000 * 120 % 1_000_003)\n"), "\(upload.suffix(200))")
                let download = try RouterTests.curl(["-sS", "--http2", "--cacert", shopCert.caFile, "--resolve", "shop.test:\(secure):127.0.0.1",
                                                     "-o", "/dev/null", "-w", "%{http_version} %{http_code} %{size_download}", "https://shop.test:\(secure)/big"])
                #expect(download == "2 200 \(160 * 64 * 1024)", "\(download)")
                // A name no route claims: 404 from the router, naming nothing internal.
                let unknown = try Self.curl("https://elsewhere.test:\(secure)/", resolve: ["elsewhere.test:\(secure)"], ca: nil, extra: ["-k"])
                #expect(unknown.hasPrefix("HTTP/1.1 404") && !unknown.contains("shop") && !unknown.contains("preview"), "\(unknown)")
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aCertificateReplacedOnDiskServesNewHandshakesWithoutAFailedRequest() async throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let old = try TestCertificates(in: dir, name: "old"), new = try TestCertificates(in: dir, name: "new")
        let served = (cert: dir + "/served-cert.pem", key: dir + "/served-key.pem")
        try FileManager.default.copyItem(atPath: old.certFile, toPath: served.cert)
        try FileManager.default.copyItem(atPath: old.keyFile, toPath: served.key)
        let both = dir + "/both-ca.pem"
        try (String(contentsOfFile: old.caFile, encoding: .utf8) + "\n" + String(contentsOfFile: new.caFile, encoding: .utf8) + "\n").write(toFile: both, atomically: true, encoding: .utf8)
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let plain = try PortAllocator.freePort(), secure = try PortAllocator.freePort()
            var listener = ListenerTable(name: "production", listen: ListenAddress(host: "127.0.0.1", port: plain), pools: [Pool(name: "v1", backends: [Backend(port: a.port)])])
            listener.tls = RouterTLS(listen: ListenAddress(host: "127.0.0.1", port: secure), certFile: served.cert, keyFile: served.key, redirect: false)
            let proxy = ProxyServer(group: MultiThreadedEventLoopGroup.singleton, logger: quietLogger())
            try await proxy.apply(RouteTable(generation: 1, listeners: [listener]))
            // What `slipway router` runs: a look at the files every period.
            let watch = Task { await CertificateWatch(proxy: proxy, period: .milliseconds(200)).run() }
            defer { watch.cancel() }  // on a throw; awaited below otherwise
            let endpoint = HTTPEndpoint.tcp(host: "localhost", port: secure)
            let onlyNew = MiniHTTPClient(tls: try MiniHTTPClient.tlsContext(caFile: new.caFile))
            try await closing(proxy) {
                #expect((try? await onlyNew.request("GET", endpoint, path: "/")) == nil, "the old certificate serves first")
                // Load: a new connection (a full handshake) per request, trusting either authority.
                let client = MiniHTTPClient(tls: try MiniHTTPClient.tlsContext(caFile: both))
                let tally = Tally()
                let workers = (0..<3).map { _ in
                    Task {
                        while !tally.stop.load(ordering: .relaxed) {
                            do {
                                let r = try await client.request("GET", endpoint, path: "/", timeout: .seconds(5))
                                tally.counts.withLock { if r.status == 200 { $0.ok += 1 } else { $0.failed.append("\(r.status)") } }
                            } catch {
                                tally.counts.withLock { $0.failed.append("\(error)") }
                            }
                        }
                    }
                }
                _ = try await poll(within: .seconds(10)) { tally.counts.withLock { $0.ok } > 20 ? true : nil }
                // Replaced the way tools do it: written beside, renamed over; the key first. Until the certificate
                // follows, the pair does not load: the old one keeps serving and the error is reported.
                try FileManager.default.copyItem(atPath: new.keyFile, toPath: served.key + ".new")
                #expect(rename(served.key + ".new", served.key) == 0)
                let error = try await poll(within: .seconds(10)) { await proxy.certificates().first?.error }
                #expect(error.contains("does not belong to the certificate"), "\(error)")
                #expect((try? await onlyNew.request("GET", endpoint, path: "/")) == nil, "the old certificate still serves")
                try FileManager.default.copyItem(atPath: new.certFile, toPath: served.cert + ".new")
                #expect(rename(served.cert + ".new", served.cert) == 0)
                let switched = try await poll(within: .seconds(10)) { (try? await onlyNew.request("GET", endpoint, path: "/"))?.status == 200 ? true : nil }
                #expect(switched)
                let now = await proxy.certificates().first
                #expect(now?.error == nil && now?.issuer?.contains("Slipway new CA") == true, "\(String(describing: now))")
                let before = tally.counts.withLock { $0.ok }
                _ = try await poll(within: .seconds(10)) { tally.counts.withLock { $0.ok } > before + 20 ? true : nil }
                tally.stop.store(true, ordering: .relaxed)
                for w in workers { await w.value }
                let result = tally.counts.withLock { $0 }
                #expect(result.failed.isEmpty, "\(result.failed.count) failed of \(result.ok + result.failed.count): \(result.failed.prefix(3))")
            }
            watch.cancel()
            await watch.value
        }
    }
}

/// Requests that succeeded and failed, counted by the load's tasks.
final class Tally: Sendable {
    let counts = Mutex((ok: 0, failed: [String]()))
    let stop = Atomic<Bool>(false)
}
