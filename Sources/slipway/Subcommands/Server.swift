import ArgumentParser
import Foundation
import Logging
import SlipwayCore
import SlipwayFleet
import SlipwayServer

struct Server: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon in the foreground (SIGTERM stops it gracefully; instances and the router keep running).",
                                                    subcommands: [DialStdioCommand.self])
    @OptionGroup var global: GlobalOptions
    @Option(help: "Log level: trace, debug, info, notice, warning, error") var logLevel = "info"
    @Option(help: "HOST:PORT where the router serves Prometheus /metrics (applies when the router starts or restarts)") var routerMetrics: String?
    @Flag(help: "Run as a fleet host: no slipway.yml; controllers stage apps under --root and activate them over ssh") var hostOnly = false
    @Option(help: "The state directory, instead of the config's root (with --host-only: default $SLIPWAY_ROOT, else /var/lib/slipway)") var root: String?

    func validate() throws {
        if let routerMetrics, ListenAddress(parsing: routerMetrics) == nil { throw ValidationError("--router-metrics: expected HOST:PORT, got '\(routerMetrics)'") }
        if let root, !root.hasPrefix("/") { throw ValidationError("--root: expected an absolute path, got '\(root)'") }
    }

    func run() async throws {
        var logger = Logger(label: "slipway")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        if hostOnly {
            let agent = try HostAgent(root: HostRoot.resolve(root), executable: SelfExecutable.path, logger: logger)
            try await agent.run()
            return
        }
        let cfg = try global.load(root: root)
        let daemon = try Daemon(config: cfg, routerExecutable: SelfExecutable.path, routerArguments: routerMetrics.map { ["--metrics", $0] } ?? [],
                                logger: logger)
        try await daemon.run()
    }
}

/// `slipway server dial-stdio`: what a controller runs on a fleet host over ssh.
struct DialStdioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dial-stdio",
                                                    abstract: "Bridge stdin and stdout to the host daemon's socket (what a fleet controller runs over ssh).")
    @Option(help: "The host's root (default $SLIPWAY_ROOT, else /var/lib/slipway)") var root: String?

    func run() throws {
        try DialStdio.run(socket: HostRoot.resolve(root) + "/slipway.sock")
    }
}

enum HostRoot {
    /// `--root`, else `$SLIPWAY_ROOT`, else /var/lib/slipway.
    static func resolve(_ root: String?) -> String {
        if let root { return root }
        if let env = ProcessInfo.processInfo.environment["SLIPWAY_ROOT"], !env.isEmpty { return env }
        return HostAgent.defaultRoot
    }
}

enum SelfExecutable {
    /// This binary's path, so the daemon can start `slipway router` from the same build.
    static var path: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
