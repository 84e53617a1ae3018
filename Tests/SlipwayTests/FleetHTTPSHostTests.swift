import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Testing

/// A fleet with one host over ssh and one listed as `https://ADDRESS:7443` (its host daemon's HTTPS listener, a token,
/// a certificate from the test's own CA): one deploy reaches both; a wrong or missing token changes nothing.
@Suite(.serialized)
struct FleetHTTPSHostTests {
    @Test(.timeLimit(.minutes(3)), .enabled(if: FleetLab.canRun, Comment(rawValue: FleetLab.skipNote)))
    func aHostReachedOverHTTPSWithItsTokenIsDeployedBesideAnSSHHost() async throws {
        try await FleetLab.with(2) { lab in
            let address = lab.hosts[1].address
            let certs = try TestCertificates(in: lab.dir, name: "h2", hosts: ["h2.fleet.test"], ips: [address.split(separator: ".").map { UInt8($0)! }])
            let token = "host-token-" + UUID().uuidString
            try token.write(toFile: lab.dir + "/h2-token", atomically: true, encoding: .utf8)
            try await lab.restartAgent(1, ["--listen-tls", "\(address):7443", "--cert", certs.certFile, "--key", certs.keyFile, "--token-file", lab.dir + "/h2-token"])
            let https = "https://\(address):7443"
            try lab.writeApp(port: 18_080, top: "https_hosts: { token_secret: SLIPWAY_HOST_TOKEN, ca: \(certs.caFile) }", hostList: ["h1", https])

            let missing = try await lab.cli(["deploy", "v1"])
            #expect(missing.status == 2 && missing.text.contains("SLIPWAY_HOST_TOKEN is not set"), "\(missing.text)")

            try "v1".write(toFile: lab.app + "/VERSION", atomically: true, encoding: .utf8)
            let first = try await lab.cli(["deploy", "v1", "--json"], environment: ["SLIPWAY_HOST_TOKEN": token])
            #expect(first.status == 0 && first.text.contains("v1 serves on 2 host(s)"), "\(first.text)")
            for h in lab.hosts {
                let r = try await MiniHTTPClient().request("GET", .tcp(host: h.address, port: 18_080), path: "/")
                #expect(r.bodyText.contains("demo-app v1"), "\(h.name) serves v1: \(r.bodyText)")
            }
            let status = try await lab.cli(["fleet", "status", "--json"], environment: ["SLIPWAY_HOST_TOKEN": token])
            #expect(status.text.contains("\"host\" : \"\(https)\"") && status.text.contains("\"drift\" : false"), "\(status.text)")

            // A wrong token: the host refuses it at preflight, and nothing changes anywhere.
            try "v2".write(toFile: lab.app + "/VERSION", atomically: true, encoding: .utf8)
            let wrong = try await lab.cli(["deploy", "v2", "--json"], environment: ["SLIPWAY_HOST_TOKEN": "not-the-token-at-all"])
            #expect(wrong.status == 1 && wrong.text.contains("\"phase\" : \"preflight\"") && wrong.text.contains("needs its token"), "\(wrong.text)")
            let raw = try await MiniHTTPClient(tls: MiniHTTPClient.tlsContext(caFile: certs.caFile)).request("GET", .tcp(host: address, port: 7443), path: "/v1/host/status")
            #expect(raw.status == 403, "a request without the token is refused before it reaches the API: \(raw.status)")
            let r = try await MiniHTTPClient().request("GET", .tcp(host: lab.hosts[0].address, port: 18_080), path: "/")
            #expect(r.bodyText.contains("demo-app v1"), "h1 untouched: \(r.bodyText)")
            for text in [missing.text, first.text, status.text, wrong.text] { #expect(!text.contains(token), "the token never shows") }
        }
    }
}
