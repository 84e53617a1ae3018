import Foundation
import SlipwayCore
import SlipwayRuntime
import Testing

/// A fleet's certificate (`router.tls: acme` with `state.postgres`) against a real RFC 8555 CA (Debian's pebble): the
/// controller orders it once, every host answers the HTTP-01 challenge (the CA's DNS names the second host, which did
/// not order anything), the shared state keeps it, and every host serves it; the hosts never ask the CA themselves.
@Suite(.serialized)
struct FleetCertificatesTests {
    static var canRun: Bool { FleetLab.canRun && SharedStateTests.canRun && Pebble.canRun }
    static let skipNote = FleetLab.skipNote + "; " + TestServices.skipNote + "; " + Pebble.skipNote

    @Test(.timeLimit(.minutes(3)), .enabled(if: canRun, Comment(rawValue: skipNote)))
    func oneCertificateIsOrderedOnceAndServedByEveryHost() async throws {
        let (_, url) = try await SharedStateTests.freshDatabaseURL()
        let env = ["SLIPWAY_STATE_URL": url]
        try await FleetLab.with(2) { lab in
            let (plain, secure) = (18_080, 18_443)
            // The CA resolves shop.test to h2: whichever host it reaches must answer.
            let pebble = try await Pebble.start(httpPort: plain, tlsPort: secure, address: lab.hosts[1].address, in: lab.dir)
            do {
                try lab.writeApp(port: plain, top: "state: { postgres: { url_secret: SLIPWAY_STATE_URL } }", router: """
                    { listen: "0.0.0.0:\(plain)", listen_tls: "0.0.0.0:\(secure)", hosts: [shop.test], tls: acme, redirect_https: false,
                      acme: { directory: "\(pebble.directory)", ca: \(pebble.apiCA), email: ops@shop.test }, drain_timeout: 2s }
                    """)
                try "v1".write(toFile: lab.app + "/VERSION", atomically: true, encoding: .utf8)
                let first = try await lab.cli(["deploy", "v1"], environment: env)
                #expect(first.status == 0 && first.text.contains("certificate for shop.test issued") && first.text.contains("installed on h1, h2"), "\(first.text)")

                let root = try await pebble.rootFile()
                for host in lab.hosts {
                    let got = try RouterTests.curl(["-sS", "-i", "--max-time", "10", "--cacert", root, "--resolve", "shop.test:\(secure):\(host.address)",
                                                    "https://shop.test:\(secure)/"])
                    #expect(got.hasPrefix("HTTP/2 200") && got.contains("hello from demo-app v1"), "HTTP/2 by default, \(host.name): \(got)")
                }
                // The hosts asked no CA: no renewal state of their own; each keeps the fleet's key owner-only.
                for i in lab.hosts.indices {
                    let acme = "\(lab.dir)/h\(i + 1)/root/apps/shop/state/acme"
                    #expect(!FileManager.default.fileExists(atPath: acme + "/state.json") && !FileManager.default.fileExists(atPath: acme + "/account.key"))
                    let mode = try FileManager.default.attributesOfItem(atPath: acme + "/certs/production.key")[.posixPermissions] as? Int
                    #expect(mode == 0o600, "h\(i + 1): \(String(mode ?? 0, radix: 8))")
                }

                // The next deploy finds it kept and not due: installed again, not ordered again, on the deploy's own ssh
                // connection (one per host).
                func accepted(_ i: Int) -> Int {
                    ((try? String(contentsOfFile: "\(lab.dir)/h\(i + 1)/sshd.log", encoding: .utf8)) ?? "").components(separatedBy: "Accepted publickey").count - 1
                }
                let before = lab.hosts.indices.map(accepted)
                try "v2".write(toFile: lab.app + "/VERSION", atomically: true, encoding: .utf8)
                let second = try await lab.cli(["deploy", "v2"], environment: env)
                #expect(second.status == 0 && !second.text.contains("issued") && second.text.contains("installed on h1, h2"), "\(second.text)")
                #expect(lab.hosts.indices.map { accepted($0) - before[$0] } == [1, 1], "one ssh connection per host, the certificate's install included")
                #expect(pebble.log().components(separatedBy: "Issued certificate serial").count - 1 == 1, "one order for the fleet: \(pebble.log().suffix(2000))")

                let listed = try await lab.cli(["certs", "--env", "production", "--json"], environment: env)
                let list = try SlipwayJSON.decoder().decode([CertificateInfo].self, from: Data(listed.text.utf8))
                #expect(list.count == 1 && list[0].issuer?.contains("Pebble") == true && list[0].names == ["shop.test"]
                        && list[0].acme?.placeholder == false && list[0].acme?.lastRenewal != nil && list[0].acme?.failures == 0, "\(listed.text)")
                let renewed = try await lab.cli(["certs", "--env", "production", "--renew"], environment: env)
                #expect(renewed.status == 0 && renewed.text.contains("installed on h1, h2") && !renewed.text.contains("issued"), "\(renewed.text)")
                for out in [first.text, second.text, listed.text, renewed.text] { #expect(!out.contains("PRIVATE KEY")) }
            } catch {
                print("pebble.log:\n\(pebble.log().suffix(4000))")
                await pebble.stop()
                throw error
            }
            await pebble.stop()
        }
    }

    /// The same with each host's apps behind that host's shared edge (`router.edge`): the app's daemon hands the
    /// challenge answers and the certificate to its edge, which answers only for the hosts the app routes there and
    /// keeps the certificate in its own state.
    @Test(.timeLimit(.minutes(3)), .enabled(if: canRun, Comment(rawValue: skipNote)))
    func aFleetBehindEachHostsEdgeGetsItsCertificateThere() async throws {
        let (_, url) = try await SharedStateTests.freshDatabaseURL()
        let env = ["SLIPWAY_STATE_URL": url]
        try await FleetLab.with(2) { lab in
            let (plain, secure) = (18_081, 18_444)
            for (i, _) in lab.hosts.enumerated() { try await lab.startEdge(i) }
            let pebble = try await Pebble.start(httpPort: plain, tlsPort: secure, address: lab.hosts[1].address, in: lab.dir)
            do {
                // Relative to the app's directory on a host (<root>/apps/shop): each namespace host's own edge.
                try lab.writeApp(port: plain, top: "state: { postgres: { url_secret: SLIPWAY_STATE_URL } }", router: """
                    { edge: ../../edge.sock, listen: "0.0.0.0:\(plain)", listen_tls: "0.0.0.0:\(secure)", hosts: [shop.test], tls: acme, redirect_https: false,
                      acme: { directory: "\(pebble.directory)", ca: \(pebble.apiCA), email: ops@shop.test }, drain_timeout: 2s }
                    """)
                try "v1".write(toFile: lab.app + "/VERSION", atomically: true, encoding: .utf8)
                let first = try await lab.cli(["deploy", "v1"], environment: env)
                #expect(first.status == 0 && first.text.contains("certificate for shop.test issued") && first.text.contains("installed on h1, h2"), "\(first.text)")
                let root = try await pebble.rootFile()
                for (i, host) in lab.hosts.enumerated() {
                    let got = try RouterTests.curl(["-sS", "-i", "--max-time", "10", "--cacert", root, "--resolve", "shop.test:\(secure):\(host.address)",
                                                    "https://shop.test:\(secure)/"])
                    #expect(got.hasPrefix("HTTP/2 200") && got.contains("hello from demo-app v1"), "HTTP/2 by default, \(host.name): \(got)")
                    // The edge keeps it (owner-only) and ordered nothing itself; the app's own state holds no certificate.
                    let kept = "\(lab.dir)/h\(i + 1)/edge/acme/shop"
                    let mode = try FileManager.default.attributesOfItem(atPath: kept + "/certs/production.key")[.posixPermissions] as? Int
                    #expect(mode == 0o600 && !FileManager.default.fileExists(atPath: kept + "/state.json"), "h\(i + 1): \(String(mode ?? 0, radix: 8))")
                    #expect(!FileManager.default.fileExists(atPath: "\(lab.dir)/h\(i + 1)/root/apps/shop/state/acme/certs/production.key"))
                }
                #expect(pebble.log().components(separatedBy: "Issued certificate serial").count - 1 == 1, "one order for the fleet")
                #expect(!first.text.contains("PRIVATE KEY"))
            } catch {
                print("pebble.log:\n\(pebble.log().suffix(4000))")
                await pebble.stop()
                throw error
            }
            await pebble.stop()
        }
    }
}
