import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

/// `slipway certs`: the certificates the router serves over HTTPS.
struct Certs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Certificates served over HTTPS: environment, hosts, issuer, not-after, when loaded, and a reload's error.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let client = try global.client()
        let list: [CertificateInfo] = try await client.get("/v1/certificates")
        if json { Output.json(list); return }
        if list.isEmpty {
            print("no environment serves HTTPS (router.listen_tls with router.tls)")
            return
        }
        let now = Date()
        Output.table(["ENVIRONMENT", "ADDRESS", "HOSTS", "ISSUER", "NOT AFTER", "DAYS LEFT", "LOADED", "ERROR"], list.map { c in
            [c.environment, c.address, c.shownHosts.joined(separator: ","), c.issuer ?? "-", c.notAfter.map { Output.time($0) } ?? "-",
             c.notAfter.map { String(Int($0.timeIntervalSince(now) / 86_400)) } ?? "-", c.loadedAt.map { Output.time($0) } ?? "-", c.error ?? "-"]
        })
    }
}
