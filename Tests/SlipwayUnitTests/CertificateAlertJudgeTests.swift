import Foundation
import Testing
@testable import SlipwayCore
@testable import SlipwayEngine

/// The certificate alerts when neither the router nor the shared edge reports the environment's certificate (it is
/// down, or has not taken the routes yet): the files are read only where they are this daemon's own.
@Suite struct CertificateAlertJudgeTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func environment(_ router: String) throws -> EnvironmentConfig {
        let cfg = try ConfigLoader.parse(yaml: "app: shop\nprocess: { command: x }\nrouter: \(router)\n", file: "slipway.yml", directory: EdgeConfigTests.directory)
        return try #require(cfg.environments["production"])
    }

    @Test func anEdgesACMECertificateIsNotJudgedFromThisRootsFiles() throws {
        let onEdge = try Self.environment("{ edge: /run/slipway/edge.sock, hosts: [shop.test], listen_tls: 127.0.0.1:8443, tls: acme }")
        for (alert, judged) in [("expiring", Signals.judgeExpiring(env: onEdge, served: nil, now: Self.now)),
                                ("renewal", Signals.judgeRenewalFailed(env: onEdge, served: nil, now: Self.now))] {
            #expect(judged.0 == nil && judged.1 == "not judged: the edge at /run/slipway/edge.sock did not report this environment's certificate",
                    "\(alert): \(judged.1)")
        }
        // The per-root router's ACME files are this daemon's: read (no state yet: no failure; no certificate file yet).
        let own = try Self.environment("{ hosts: [shop.test], listen_tls: 127.0.0.1:8443, tls: acme }")
        #expect(Signals.judgeRenewalFailed(env: own, served: nil, now: Self.now).0 == false)
        let expiring = Signals.judgeExpiring(env: own, served: nil, now: Self.now)
        #expect(expiring.0 == false && expiring.1.contains("cannot be read now"), "\(expiring.1)")
        // A certificate file of the app's own, served by the edge: read too (this one holds no certificate).
        let files = try Self.environment("{ edge: /run/slipway/edge.sock, hosts: [shop.test], listen_tls: 127.0.0.1:8443, tls: { cert: tls/cert.pem, key: tls/key.pem } }")
        let fromFile = Signals.judgeExpiring(env: files, served: nil, now: Self.now)
        #expect(fromFile.0 == false && fromFile.1 == "\(EdgeConfigTests.directory)/tls/cert.pem cannot be read now", "\(fromFile.1)")
        // What the edge reports is judged as it is.
        let served = CertificateInfo(environment: "production", address: "127.0.0.1:8443", hosts: ["shop.test"], certFile: "/edge/acme/shop/certs/production.crt",
                                     notAfter: Self.now + 3 * 86_400)
        let soon = Signals.judgeExpiring(env: onEdge, served: served, now: Self.now)
        #expect(soon.0 == true && soon.1.contains("in 3 day(s)"), "\(soon.1)")
    }
}
