import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

/// `slipway certs`: the certificates the router serves over HTTPS.
struct Certs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Certificates served over HTTPS: environment, hosts, source (files or ACME), issuer, not-after, last renewal, next attempt, and errors.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "A fleet environment (hosts: with state.postgres): its certificate as the shared state keeps it")
    var env: String?
    @Flag(help: "A fleet environment's certificate: obtain it now if due, and install it on every host (run it daily from a timer)")
    var renew = false
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        if try await FleetCommand.certificates(global, env, renew: renew, json: json) { return }
        if renew { throw SlipwayError.usage("--renew is for a fleet environment (hosts: with state.postgres); a daemon renews its own certificates") }
        let client = try global.client()
        let list: [CertificateInfo] = try await client.get("/v1/certificates")
        Self.show(list, json: json)
    }

    static func show(_ list: [CertificateInfo], json: Bool) {
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
