import Foundation
import Testing
@testable import SlipwayCore
@testable import SlipwayFleet
@testable import SlipwayServer

/// Hosts listed as `https://HOST:PORT`: the config, the controller's parsing, and the host's token check.
struct HTTPSHostConfigTests {
    @Test func httpsHostsNeedATokenVariableAndAreParsed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("https-hosts-\(UUID().uuidString.prefix(6))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "-----BEGIN CERTIFICATE-----\n".write(toFile: dir + "/ca.pem", atomically: true, encoding: .utf8)
        let yaml = """
            app: shop
            process: { command: ./shop }
            https_hosts: { token_secret: SLIPWAY_HOST_TOKEN, ca: ca.pem }
            environments:
              production: { hosts: [web1, "https://10.0.0.5:7443", "https://web3.example"] }
            """
        let cfg = try ConfigLoader.parse(yaml: yaml, file: dir + "/slipway.yml", directory: dir)
        #expect(cfg.environments["production"]?.hosts == ["web1", "https://10.0.0.5:7443", "https://web3.example"])
        #expect(cfg.httpsHosts == HTTPSHostSettings(tokenSecret: "SLIPWAY_HOST_TOKEN", ca: dir + "/ca.pem"))
        #expect(HTTPSHost.parse("https://10.0.0.5:7443")! == ("10.0.0.5", 7443) && HTTPSHost.parse("https://web3.example")! == ("web3.example", 7443))
        #expect(HTTPSHost.parse("https://[fd00::5]:8443")! == ("fd00::5", 8443))
        #expect(HTTPSHost.parse("https://h:7443/v1") == nil && HTTPSHost.parse("http://h:7443") == nil)

        for (yaml, expected) in [
            ("environments:\n  production: { hosts: [\"https://10.0.0.5:7443\"] }", ["slipway.yml:4", "environments.production.hosts", "https_hosts: { token_secret: NAME }"]),
            ("environments:\n  production: { hosts: [\"http://10.0.0.6\", \"https://h/path\"] }", ["hosts[0]", "hosts[1]", "expected https://HOST or https://HOST:PORT"]),
            ("https_hosts: { token_secret: \"hunter2-token\" }\nenvironments:\n  production: { hosts: [\"https://h\"] }", ["https_hosts.token_secret", "not the token itself"]),
        ] {
            do {
                _ = try ConfigLoader.parse(yaml: "app: shop\nprocess: { command: ./shop }\n" + yaml, file: "slipway.yml", directory: dir)
                Issue.record("accepted \(yaml)")
            } catch {
                for e in expected { #expect(error.description.contains(e), "\(e) in \(error.description)") }
            }
        }
    }

    @Test func theHostAdmitsOnlyItsOwnToken() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString.prefix(6))").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "s3cret-token-0123456789\n".write(toFile: file, atomically: true, encoding: .utf8)
        let tls = try HostTLS(address: ListenAddress(host: "0.0.0.0", port: 7443), files: TLSFiles(cert: "c", key: "k"), tokenFile: file)
        #expect(tls.admits("Bearer s3cret-token-0123456789"))
        #expect(!tls.admits("Bearer s3cret-token-0123456788") && !tls.admits("s3cret-token-0123456789") && !tls.admits(nil) && !tls.admits("Bearer "))
        try "short".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: SlipwayError.self) { try HostTLS(address: ListenAddress(host: "0.0.0.0", port: 7443), files: TLSFiles(cert: "c", key: "k"), tokenFile: file) }
    }
}
