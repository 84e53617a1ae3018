import ArgumentParser
import SlipwayClient
import SlipwayCore

struct RestartRouter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart-router",
        abstract: "Restart the router process without a gap (e.g. after upgrading slipway): a new process takes its listening sockets, the old one finishes its requests and exits. Audited.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the result as JSON") var json = false

    func run() async throws {
        let client = try global.client()
        let result: RouterRestartResult = try await client.post("/v1/router/restart", EnvironmentRequest(environment: nil, actor: DaemonClient.actor))
        if json { Output.json(result); return }
        print("router restarted: pid \(result.pid) serves now; the previous process is draining")
    }
}
