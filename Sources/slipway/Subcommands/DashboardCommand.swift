import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayServer

struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Print a one-time sign-in link to the web dashboard (valid for a minute, once), signed in as you.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let base: String
        if let server = global.server {
            base = server
        } else {
            let config = try global.load()
            guard let listen = config.server.listen else {
                throw SlipwayError.usage("the dashboard is served on server.listen, which \(config.file) does not set; add server: { listen: 127.0.0.1:7070 }")
            }
            base = (config.server.tls == nil ? "http://" : "https://") + "\(listen.host):\(listen.port)"
        }
        let link: DashboardLink = try await global.client().post("/v1/ui/links", EmptyBody())
        let url = base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + link.path
        if json { Output.json(["url": url, "expires_at": ISO8601DateFormatter().string(from: link.expiresAt)]); return }
        print(url)
    }
}

struct EmptyBody: Codable, Sendable {}
