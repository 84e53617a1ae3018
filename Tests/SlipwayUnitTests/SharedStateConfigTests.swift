import Foundation
import Testing
@testable import SlipwayCore
@testable import SlipwayFleet

/// `state: { postgres: { url_secret: NAME } }` and the URL in that variable: the config names a variable, never the
/// URL, and no error shows the password.
struct SharedStateConfigTests {
    @Test func theConfigNamesTheVariableAndTheURLIsReadFromIt() throws {
        let yaml = """
            app: shop
            process: { command: ./shop }
            state: { postgres: { url_secret: SLIPWAY_STATE_URL } }
            environments:
              production: { hosts: [web1, web2] }
            """
        let cfg = try ConfigLoader.parse(yaml: yaml, file: "/srv/shop/slipway.yml", directory: "/srv/shop")
        #expect(cfg.state.postgresURLSecret == "SLIPWAY_STATE_URL")
        let url = try #require(try PostgresURL.configured(cfg.state, environment: ["SLIPWAY_STATE_URL": "postgres://ops:s%40cret@db.internal:6432/fleet?sslmode=verify-full"]))
        #expect(url == PostgresURL(host: "db.internal", port: 6432, user: "ops", password: "s@cret", database: "fleet", tls: .verify))
        #expect(url.display == "ops@db.internal:6432/fleet")
        #expect(try PostgresURL.configured(SharedStateSettings(), environment: [:]) == nil, "no state: no shared state")
        #expect(try PostgresURL.parse("postgresql://ops@localhost/fleet", name: "X").tls == .prefer)
    }

    /// With shared state a fleet environment's ACME certificate is the controller's to obtain (the hosts' routers leave
    /// it alone); without shared state, or on a single host, each router obtains its own as before.
    @Test func aFleetsACMECertificateIsTheControllersOnlyWithSharedState() throws {
        func acme(state: Bool, hosts: Bool) throws -> ACMEOptions? {
            let yaml = """
                app: shop
                process: { command: ./shop }
                \(state ? "state: { postgres: { url_secret: SLIPWAY_STATE_URL } }" : "")
                environments:
                  production:
                    \(hosts ? "hosts: [web1, web2]" : "")
                    router: { listen: "0.0.0.0:80", listen_tls: "0.0.0.0:443", hosts: [shop.example.com], tls: acme }
                """
            return try ConfigLoader.parse(yaml: yaml, file: "/srv/shop/slipway.yml", directory: "/srv/shop").environments["production"]?.router.tls?.acme
        }
        #expect(try acme(state: true, hosts: true)?.fleet == true)
        // A private CA's file is the controller's to read: a host parsing the snapshot without it is not refused.
        let missingCA = """
            app: shop
            process: { command: ./shop }
            state: { postgres: { url_secret: SLIPWAY_STATE_URL } }
            environments:
              production:
                hosts: [web1]
                router: { listen: "0.0.0.0:80", listen_tls: "0.0.0.0:443", hosts: [shop.example.com], tls: acme, acme: { ca: private-ca.pem } }
            """
        #expect(try ConfigLoader.parse(yaml: missingCA, file: "/srv/shop/slipway.yml", directory: "/srv/shop").environments["production"]?.router.tls?.acme?.caFile
                == "/srv/shop/private-ca.pem")
        #expect(throws: ConfigError.self, "a single host still needs it") {
            try ConfigLoader.parse(yaml: missingCA.replacingOccurrences(of: "    hosts: [web1]\n", with: ""), file: "/srv/shop/slipway.yml", directory: "/srv/shop")
        }
        #expect(try acme(state: false, hosts: true)?.fleet == nil)
        #expect(try acme(state: true, hosts: false)?.fleet == nil)
    }

    @Test func aURLInTheConfigOrAMissingVariableIsRefusedWithoutShowingThePassword() {
        let yaml = """
            app: shop
            process: { command: ./shop }
            state:
              postgres: { url_secret: "postgres://ops:hunter2@db/fleet" }
            environments:
              production: { hosts: [web1] }
            """
        do {
            _ = try ConfigLoader.parse(yaml: yaml, file: "slipway.yml", directory: "/tmp")
            Issue.record("accepted a URL as the variable's name")
        } catch {
            #expect(error.description.contains("slipway.yml:4") && error.description.contains("state.postgres.url_secret"), "\(error.description)")
            #expect(error.description.contains("not the URL itself"))
        }
        let settings = SharedStateSettings(postgresURLSecret: "SLIPWAY_STATE_URL")
        #expect(throws: SlipwayError.self) { try PostgresURL.configured(settings, environment: [:]) }
        for bad in ["mysql://ops:hunter2@db/fleet", "postgres://ops:hunter2@db", "postgres://:hunter2@db/fleet", "postgres://ops:hunter2@db/fleet?sslmode=sometimes"] {
            do {
                _ = try PostgresURL.parse(bad, name: "SLIPWAY_STATE_URL")
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.message.contains("SLIPWAY_STATE_URL") && !error.message.contains("hunter2"), "\(error.message)")
                #expect(error.code == .usage)
            }
        }
    }
}
