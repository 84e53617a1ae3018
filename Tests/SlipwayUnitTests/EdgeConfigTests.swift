import Foundation
import Testing
@testable import SlipwayCore

/// `router.listen_tls`, `router.tls`, `redirect_https` and `hsts`: what a valid setting becomes, and every
/// mistake named by file, line and key.
@Suite struct EdgeConfigTests {
    /// A directory with `cert.pem`, `key.pem` and a `junk.pem` that holds no PEM.
    static let directory: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-edge-config-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: dir + "/tls", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/tls/cert.pem", contents: Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8))
        _ = FileManager.default.createFile(atPath: dir + "/tls/key.pem", contents: Data("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n".utf8))
        _ = FileManager.default.createFile(atPath: dir + "/tls/junk.pem", contents: Data("hello\n".utf8))
        return dir
    }()

    static func parse(_ router: String, environments: String = "") throws(ConfigError) -> SlipwayConfig {
        try ConfigLoader.parse(yaml: "app: shop\nprocess: { command: x }\nrouter: \(router)\n" + environments, file: "slipway.yml", directory: directory)
    }

    @Test func httpsFromFilesWithRedirectAndHSTS() throws {
        let cfg = try Self.parse("{ listen: 0.0.0.0:8080, listen_tls: 0.0.0.0:8443, tls: { cert: tls/cert.pem, key: tls/key.pem }, hsts: 180d, http2: true }")
        let tls = try #require(cfg.environments["production"]?.router.tls)
        #expect(tls == RouterTLS(listen: ListenAddress(host: "0.0.0.0", port: 8443), certFile: Self.directory + "/tls/cert.pem",
                                 keyFile: Self.directory + "/tls/key.pem", redirect: true, hstsSeconds: 180 * 86_400, http2: true))
        let noRedirect = try Self.parse("{ listen_tls: 127.0.0.1:8443, tls: { cert: tls/cert.pem, key: tls/key.pem }, redirect_https: false }")
        #expect(noRedirect.environments["production"]?.router.tls?.redirect == false)
        #expect(noRedirect.environments["production"]?.router.tls?.http2 == true, "HTTP/2 is offered unless turned off")
        let h1 = try Self.parse("{ listen_tls: 127.0.0.1:8443, tls: { cert: tls/cert.pem, key: tls/key.pem }, http2: false }")
        #expect(h1.environments["production"]?.router.tls?.http2 == false)
        #expect(try Self.parse("{ tls: off }").environments["production"]?.router.tls == nil)
    }

    @Test func httpsFromACME() throws {
        let cfg = try Self.parse("{ hosts: [shop.example.com, www.shop.example.com], listen_tls: 0.0.0.0:8443, tls: acme, acme: { email: ops@example.com, ca: tls/cert.pem, challenge: tls-alpn-01 } }")
        let tls = try #require(cfg.environments["production"]?.router.tls)
        let storage = cfg.root + "/acme"
        #expect(tls.acme == ACMEOptions(directory: ACMEOptions.letsEncrypt, email: "ops@example.com", caFile: Self.directory + "/tls/cert.pem",
                                        challenge: "tls-alpn-01", storage: storage))
        #expect(tls.certFile == storage + "/certs/production.crt" && tls.keyFile == storage + "/certs/production.key")
        let staging = try Self.parse("{ hosts: [shop.example.com], listen_tls: 0.0.0.0:8443, tls: acme, acme: { staging: true } }")
        #expect(staging.environments["production"]?.router.tls?.acme?.directory == ACMEOptions.letsEncryptStaging)
        #expect(staging.environments["production"]?.router.tls?.acme?.challenge == "http-01")
        let plain = try Self.parse("{ hosts: [shop.example.com], listen_tls: 0.0.0.0:8443, tls: acme }")
        #expect(plain.environments["production"]?.router.tls?.acme == ACMEOptions(storage: storage))
    }

    @Test func onDemandTakesEveryHostOrWildcards() throws {
        let any = try Self.parse("{ listen_tls: 0.0.0.0:8443, tls: acme, acme: { on_demand: { ask: \"http://127.0.0.1:3000/tls-allowed\" } } }")
        #expect(any.environments["production"]?.router.tls?.acme?.onDemand == ACMEOptions.OnDemand(ask: "http://127.0.0.1:3000/tls-allowed", maxPerHour: 20))
        let wild = try Self.parse("{ hosts: [\"*.customers.example.com\"], listen_tls: 0.0.0.0:8443, tls: acme, acme: { on_demand: { ask: \"https://app.example.com/ok\", max_per_hour: 5 } } }")
        #expect(wild.environments["production"]?.router.tls?.acme?.onDemand?.maxPerHour == 5)
    }

    @Test func anEdgeForEveryEnvironment() throws {
        let cfg = try Self.parse("{ edge: /run/slipway/edge.sock, hosts: [shop.example.com] }")
        #expect(cfg.edgeSocket == "/run/slipway/edge.sock" && cfg.environments["production"]?.router.edge == "/run/slipway/edge.sock")
        #expect(try Self.parse("{ listen: 127.0.0.1:8080 }").edgeSocket == nil)
    }

    static let mistakes: [(router: String, environments: String, expected: String)] = [
        ("{ tls: { cert: tls/cert.pem, key: tls/key.pem } }", "", "slipway.yml:3:16: router.tls: tls needs router.listen_tls: the HTTPS address, like 0.0.0.0:443"),
        ("{ listen_tls: 127.0.0.1:8443 }", "", "slipway.yml:3:23: router.listen_tls: an HTTPS address needs a certificate: add router.tls: acme, or router.tls: { cert: FILE, key: FILE }"),
        ("{ listen_tls: 127.0.0.1:8443, tls: { cert: tls/missing.pem, key: tls/key.pem } }", "",
         "slipway.yml:3:52: router.tls.cert: cannot read \(directory)/tls/missing.pem; expected a PEM file"),
        ("{ listen_tls: 127.0.0.1:8443, tls: { cert: tls/junk.pem, key: tls/key.pem } }", "", "router.tls.cert: \(directory)/tls/junk.pem holds no PEM certificate"),
        ("{ listen_tls: 127.0.0.1:8443, tls: { cert: tls/cert.pem, key: tls/cert.pem } }", "", "router.tls.key: \(directory)/tls/cert.pem holds no PEM private key"),
        ("{ listen_tls: 127.0.0.1:8443, tls: { cert: tls/cert.pem } }", "", "router.tls.key: missing required key (the private key, PEM)"),
        ("{ listen_tls: 127.0.0.1:8443, tls: acme }", "", "slipway.yml:3:44: router.tls: ACME certificates are for names: list them in router.hosts"),
        ("{ hosts: [\"*.shop.example.com\"], listen_tls: 127.0.0.1:8443, tls: acme }", "",
         "slipway.yml:3:75: router.tls: *.shop.example.com: a wildcard certificate needs the DNS-01 challenge, which Slipway does not do"),
        ("{ hosts: [shop.example.com], listen_tls: 127.0.0.1:8443, tls: acme, acme: { challenge: dns-01 } }", "",
         "router.acme.challenge: expected http-01 (port 80) or tls-alpn-01 (port 443), got 'dns-01'"),
        ("{ hosts: [shop.example.com], listen_tls: 127.0.0.1:8443, tls: acme, acme: { email: ops } }", "", "router.acme.email: expected an email address"),
        ("{ hosts: [shop.example.com], listen_tls: 127.0.0.1:8443, tls: acme, acme: { directory: acme.example.com } }", "",
         "router.acme.directory: expected the CA's directory URL"),
        ("{ hosts: [shop.example.com], listen_tls: 127.0.0.1:8443, tls: acme, acme: { ca: tls/missing.pem } }", "",
         "router.acme.ca: cannot read \(directory)/tls/missing.pem; expected the PEM of the CA's API certificate"),
        ("{ hosts: [shop.example.com], listen_tls: 127.0.0.1:8443, tls: acme, acme: { ca: tls/junk.pem } }", "", "router.acme.ca: \(directory)/tls/junk.pem holds no PEM certificate"),
        ("{ hosts: [shop.example.com], listen_tls: 127.0.0.1:8443, tls: acme, acme: { staging: true, directory: \"https://ca.test/dir\" } }", "",
         "router.acme.staging: staging picks Let's Encrypt's staging directory"),
        ("{ listen_tls: 127.0.0.1:8443, tls: acme, acme: { on_demand: { max_per_hour: 5 } } }", "", "router.acme.on_demand.ask: missing required key"),
        ("{ listen_tls: 127.0.0.1:8443, tls: acme, acme: { on_demand: { ask: \"ask.example.com\" } } }", "", "router.acme.on_demand.ask: expected the URL the router asks"),
        ("{ listen_tls: 127.0.0.1:8443, tls: acme, acme: { on_demand: { ask: \"http://127.0.0.1:3000/ok\", max_per_hour: 0 } } }", "", "router.acme.on_demand.max_per_hour"),
        ("{ listen: 127.0.0.1:8080 }", "environments:\n  a: { router: { edge: /run/slipway/edge.sock } }\n  b: { router: { listen: 127.0.0.1:8081 } }\n",
         "environments.b.router.edge: every environment of an app registers with the same edge (/run/slipway/edge.sock)"),
        ("{ hosts: [shop.example.com], acme: { email: ops@example.com } }", "", "slipway.yml:3:44: router.acme: router.acme sets up ACME certificates: it needs router.tls: acme"),
        ("{ hosts: [shop.example.com], listen_tls: 127.0.0.1:8443, tls: acme, acme: { emali: ops@example.com } }", "", "router.acme.emali"),
        ("{ listen_tls: 127.0.0.1:8443, tls: files }", "", "router.tls: expected off, acme or { cert: FILE, key: FILE }, got 'files'"),
        ("{ redirect_https: true }", "", "router.redirect_https: redirects to HTTPS need router.tls and router.listen_tls"),
        ("{ hsts: 1y }", "", "router.hsts: expected a duration"),
        ("{ http2: true }", "", "router.http2: HTTP/2 is offered over HTTPS (ALPN): it needs router.tls and router.listen_tls"),
        ("{ hsts: 30d }", "", "router.hsts: HSTS is sent over HTTPS: it needs router.tls and router.listen_tls"),
        ("{ listen: 127.0.0.1:8443, listen_tls: 127.0.0.1:8443, tls: { cert: tls/cert.pem, key: tls/key.pem } }", "",
         "router.listen_tls: 127.0.0.1:8443 is router.listen too; HTTPS needs an address of its own"),
        ("{ listen_tls: \"nowhere\", tls: { cert: tls/cert.pem, key: tls/key.pem } }", "", "router.listen_tls: expected HOST:PORT with a port from 1 to 65535, got 'nowhere'"),
        ("{ listen: 127.0.0.1:8080 }", "environments:\n  a: { router: { listen: 127.0.0.1:8443 } }\n  b: { router: { listen: 127.0.0.1:8081, listen_tls: 127.0.0.1:8443, tls: { cert: tls/cert.pem, key: tls/key.pem } } }\n",
         "environments.b.router.listen_tls: 127.0.0.1:8443 is plain HTTP for environment 'a'; one address speaks one of them"),
        ("{ listen: 127.0.0.1:8080, listen_tls: 127.0.0.1:8443, tls: { cert: tls/cert.pem, key: tls/key.pem } }",
         "environments:\n  a: { router: { hosts: [shop.example.com] } }\n  b: { router: { hosts: [shop.example.com] } }\n",
         "host shop.example.com with path / on 127.0.0.1:8443 is claimed by environment 'a' too"),
    ]

    @Test(arguments: mistakes.indices)
    func aMistakeIsNamedByFileLineAndKey(_ index: Int) {
        let m = Self.mistakes[index]
        do {
            _ = try Self.parse(m.router, environments: m.environments)
            Issue.record("accepted: \(m.router)")
        } catch {
            #expect(error.description.contains(m.expected), "got:\n\(error.description)\nexpected to contain:\n\(m.expected)")
        }
    }
}
