import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct Maintenance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Maintenance mode: 'on' answers 503 with a page and Retry-After; 'pause' holds new requests (for a short cut-over) until 'resume' or the limit; 'off' restores traffic. Audited.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Argument(help: "on | off | pause | resume") var action: MaintenanceRequest.Action
    @Option(help: "on/pause: the message on the 503 page") var message: String?
    @Option(help: "on/pause: a custom HTML file to serve instead (relative to slipway.yml's directory)") var page: String?
    @Option(help: "on/pause: the Retry-After the 503 carries (default 60s)") var retryAfter: String?
    @Option(help: "pause: the longest a request is held before it gets the 503 page (default 30s, at most 10m)") var limit: String?
    @Flag(help: "Print the environment's status as JSON") var json = false

    func validate() throws {
        if action == .off || action == .resume, message != nil || page != nil || retryAfter != nil || limit != nil {
            throw ValidationError("--message, --page, --retry-after and --limit go with 'on' or 'pause'")
        }
        if action == .on, limit != nil { throw ValidationError("--limit goes with 'pause'") }
        if message != nil, page != nil { throw ValidationError("pass --message or --page, not both") }
    }

    func run() async throws {
        let client = try global.client()
        let status: EnvironmentStatus = try await client.post("/v1/maintenance", MaintenanceRequest(
            environment: envOption.env, action: action, message: message, page: page, retryAfter: retryAfter, limit: limit, actor: DaemonClient.actor))
        if json { Output.json(status); return }
        switch status.maintenance?.mode {
        case .on?: print("\(status.name): in maintenance; requests get the 503 page (Retry-After \(status.maintenance?.retryAfterS ?? 0)s)")
        case .paused?: print("\(status.name): paused; new requests are held up to \((status.maintenance?.holdLimitMs ?? 0) / 1000)s — 'slipway maintenance resume' releases them")
        case nil: print("\(status.name): serving \(status.currentRelease ?? "nothing")")
        }
    }
}

extension MaintenanceRequest.Action: ExpressibleByArgument {}
