import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

/// `slipway certs`: the certificates the router serves over HTTPS.
struct Certs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Certificates served over HTTPS: environment, hosts, source (files or ACME), issuer, not-after, last renewal, next attempt, and errors.")
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
        Output.table(["ENVIRONMENT", "ADDRESS", "HOSTS", "SOURCE", "ISSUER", "NOT AFTER", "DAYS LEFT", "LOADED", "LAST RENEWAL", "NEXT ATTEMPT", "ERROR"], list.map { c in
            let source = c.acme.map { $0.placeholder ? "acme (pending)" : "acme" } ?? "files"
            let error = [c.error, c.acme?.lastError.map { "renewal failed \(c.acme?.failures ?? 1)x: \($0)" }].compactMap { $0 }.joined(separator: "; ")
            return [c.environment, c.address, c.shownHosts.joined(separator: ","), source, c.issuer ?? "-", c.notAfter.map { Output.time($0) } ?? "-",
                    c.notAfter.map { String(Int($0.timeIntervalSince(now) / 86_400)) } ?? "-", c.loadedAt.map { Output.time($0) } ?? "-",
                    c.acme?.lastRenewal.map { Output.time($0) } ?? "-", c.acme?.nextAttempt.map { Output.time($0) } ?? "-", error.isEmpty ? "-" : error]
        })
    }
}
