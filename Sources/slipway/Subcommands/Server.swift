import ArgumentParser
import Foundation
import Logging
import SlipwayCore
import SlipwayServer

struct Server: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon in the foreground (SIGTERM stops it gracefully; instances and the router keep running).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Log level: trace, debug, info, notice, warning, error") var logLevel = "info"
    @Option(help: "HOST:PORT where the router serves Prometheus /metrics (applies when the router starts or restarts)") var routerMetrics: String?

    func validate() throws {
        if let routerMetrics, ListenAddress(parsing: routerMetrics) == nil { throw ValidationError("--router-metrics: expected HOST:PORT, got '\(routerMetrics)'") }
    }

    func run() async throws {
        let cfg = try global.load()
        var logger = Logger(label: "slipway")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let daemon = try Daemon(config: cfg, routerExecutable: SelfExecutable.path, routerArguments: routerMetrics.map { ["--metrics", $0] } ?? [],
                                logger: logger)
        try await daemon.run()
    }
}

enum SelfExecutable {
    /// This binary's path, so the daemon can start `slipway router` from the same build.
    static var path: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
