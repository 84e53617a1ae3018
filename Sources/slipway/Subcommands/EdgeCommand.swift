import ArgumentParser
import Foundation
import Logging
import SlipwayCore
import SlipwayRouter

/// `slipway edge`: one router for every app on a host (`router.edge` in each app's slipway.yml).
struct EdgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge",
        abstract: "Run the shared edge: one router on :80/:443 for every app on this host; each app's daemon registers its routes (router.edge: SOCKET).")
    @Option(help: "The control socket the apps' daemons register on (mode 0660: put their users in this process's group)") var socket = "/run/slipway/edge.sock"
    @Option(help: "Where the apps' routes and the ACME account and certificates are kept") var state = "/var/lib/slipway/edge"
    @Option(help: "HOST:PORT to serve Prometheus /metrics on (the control socket serves /metrics too)") var metrics: String?
    @Option(help: "Event loop threads") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        if let metrics, ListenAddress(parsing: metrics) == nil { throw ValidationError("--metrics: expected HOST:PORT, got '\(metrics)'") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard socket.hasPrefix("/"), state.hasPrefix("/") else { throw ValidationError("--socket and --state take absolute paths") }
    }

    func run() async throws {
        var logger = Logger(label: "slipway-edge")
        logger.logLevel = .info
        for dir in [state, (socket as NSString).deletingLastPathComponent] {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750]) } catch {
                throw ValidationError("cannot create \(dir): \(error.localizedDescription)")
            }
        }
        try await RouterApplication.run(RouterOptions(controlSocket: socket, threads: threads, metricsListen: metrics.flatMap(ListenAddress.init(parsing:)),
                                                      edgeDirectory: state), logger: logger)
    }
}
