import Foundation
import NIOCore
import NIOHTTP1
import SlipwayCore
@testable import SlipwayRouter
import Testing

/// The edge's decisions without sockets: which certificate a handshake gets, what a plain request is
/// redirected to, and what the instance is told about the scheme.
@Suite struct EdgeUnitTests {
    @Test func sniPicksTheExactNameThenTheWildcardThenTheCatchAll() {
        let hosts = [["shop.example.com"], ["*.preview.example.com"], [], ["admin.example.com", "ops.example.com"]]
        #expect(CertificatePick.index(sni: "shop.example.com", hosts: hosts) == 0)
        #expect(CertificatePick.index(sni: "OPS.Example.com.", hosts: hosts) == 3, "case and a trailing dot do not matter")
        #expect(CertificatePick.index(sni: "pr-7.preview.example.com", hosts: hosts) == 1)
        #expect(CertificatePick.index(sni: "a.b.preview.example.com", hosts: hosts) == 2, "a wildcard covers one label only")
        #expect(CertificatePick.index(sni: nil, hosts: hosts) == 2, "no SNI: the certificate of the route that takes every host")
        #expect(CertificatePick.index(sni: "elsewhere.test", hosts: [["a.test"], ["b.test"]]) == 0, "nothing matches: the first")
        #expect(CertificatePick.index(sni: "a.test", hosts: []) == nil)
    }

    static let secure: RouteSnapshot.CompiledListener = {
        var table = ListenerTable(name: "shop", listen: ListenAddress(host: "0.0.0.0", port: 80))
        table.tls = RouterTLS(listen: ListenAddress(host: "0.0.0.0", port: 443), certFile: "/c", keyFile: "/k", redirect: true, hstsSeconds: 600)
        return RouteSnapshot.CompiledListener(table, registry: StatsRegistry(), secure: true)
    }()

    static func plain(redirect: Bool, port: Int = 443) -> RouteSnapshot.CompiledListener {
        var table = ListenerTable(name: "shop", listen: ListenAddress(host: "0.0.0.0", port: 80))
        table.tls = RouterTLS(listen: ListenAddress(host: "0.0.0.0", port: port), certFile: "/c", keyFile: "/k", redirect: redirect)
        return RouteSnapshot.CompiledListener(table, registry: StatsRegistry())
    }

    static func begin(_ request: String, on listener: RouteSnapshot.CompiledListener) -> ExchangeMachine {
        var m = ExchangeMachine(clientIP: Array("10.0.0.9".utf8))
        _ = m.clientRead(ByteBuffer(string: request))
        _ = m.nextClientAction(listener: listener)
        return m
    }

    @Test func plainRequestsAreRedirectedToHTTPSExceptACMEChallenges() {
        let m = Self.begin("GET /cart?page=2 HTTP/1.1\r\nHost: Shop.Example.com:80\r\n\r\n", on: Self.plain(redirect: true))
        #expect(m.request.redirect == "https://shop.example.com/cart?page=2")
        let other = Self.begin("GET / HTTP/1.1\r\nHost: shop.example.com\r\n\r\n", on: Self.plain(redirect: true, port: 8443))
        #expect(other.request.redirect == "https://shop.example.com:8443/")
        let challenge = Self.begin("GET /.well-known/acme-challenge/abc HTTP/1.1\r\nHost: shop.example.com\r\n\r\n", on: Self.plain(redirect: true))
        #expect(challenge.request.redirect == nil)
        let off = Self.begin("GET / HTTP/1.1\r\nHost: shop.example.com\r\n\r\n", on: Self.plain(redirect: false))
        #expect(off.request.redirect == nil)
        let onTLS = Self.begin("GET / HTTP/1.1\r\nHost: shop.example.com\r\n\r\n", on: Self.secure)
        #expect(onTLS.request.redirect == nil, "the HTTPS listener serves")
    }

    @Test func theRedirectIsA308WithTheLocation() {
        var m = Self.begin("POST /orders HTTP/1.1\r\nHost: shop.example.com\r\ncontent-length: 0\r\n\r\n", on: Self.plain(redirect: true))
        let out = m.answer(.permanentRedirect, body: ByteBuffer(string: "moved\n"), contentType: "text/plain", retryAfter: nil, draining: false,
                           location: m.request.redirect)
        let text = out.map { String(buffer: $0) } ?? ""
        #expect(text.hasPrefix("HTTP/1.1 308 Permanent Redirect\r\n") && text.contains("location: https://shop.example.com/orders\r\n"), "\(text)")
    }

    @Test func overTLSTheInstanceIsToldHTTPSWhateverTheClientClaims() {
        let m = Self.begin("GET / HTTP/1.1\r\nHost: shop.example.com\r\nX-Forwarded-Proto: http\r\n\r\n", on: Self.secure)
        let head = m.request.head.map { String(buffer: $0) } ?? ""
        let lines = head.lowercased().components(separatedBy: "\r\n").filter { $0.hasPrefix("x-forwarded-proto:") }
        #expect(lines == ["x-forwarded-proto: https"], "\(head)")
        #expect(Self.secure.hstsLine == "strict-transport-security: max-age=600\r\n")
        let plain = Self.begin("GET / HTTP/1.1\r\nHost: shop.example.com\r\n\r\n", on: Self.plain(redirect: false))
        #expect(plain.request.head.map { String(buffer: $0) }?.contains("x-forwarded-proto: http\r\n") == true)
        #expect(Self.plain(redirect: false).hstsLine == nil)
    }
}

/// The built-in `certificate-expiring` alert's decision, with the time given.
@Suite struct CertificateExpiryTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func firesWithinFourteenDaysAndOnceExpired() {
        let day = 86_400.0
        let fine = CertificateExpiry.judge(hosts: ["shop.example.com"], file: "/c.pem", notAfter: Self.now + 20 * day, now: Self.now)
        #expect(!fine.firing && fine.summary.contains("valid until"))
        let soon = CertificateExpiry.judge(hosts: ["shop.example.com"], file: "/c.pem", notAfter: Self.now + 10.5 * day, now: Self.now)
        #expect(soon.firing && soon.summary.contains("shop.example.com (/c.pem) expires at") && soon.summary.contains("in 10 day(s)"), "\(soon.summary)")
        let edge = CertificateExpiry.judge(hosts: [], file: "/c.pem", notAfter: Self.now + 14 * day, now: Self.now)
        #expect(!edge.firing, "exactly 14 days left: not yet")
        let gone = CertificateExpiry.judge(hosts: [], file: "/c.pem", notAfter: Self.now - 1, now: Self.now)
        #expect(gone.firing && gone.summary.contains("/c.pem") && gone.summary.contains("expired"), "\(gone.summary)")
    }
}
