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
    @Option(help: "With --host-only: also serve the host API over HTTPS on HOST:PORT (for controllers listing https://HOST:PORT)") var listenTls: String?
    @Option(help: "With --listen-tls: the certificate chain (PEM)") var cert: String?
    @Option(help: "With --listen-tls: its private key (PEM)") var key: String?
    @Option(help: "With --listen-tls: a file holding the token controllers present (Authorization: Bearer)") var tokenFile: String?

    func validate() throws {
        if let routerMetrics, ListenAddress(parsing: routerMetrics) == nil { throw ValidationError("--router-metrics: expected HOST:PORT, got '\(routerMetrics)'") }
        if let root, !root.hasPrefix("/") { throw ValidationError("--root: expected an absolute path, got '\(root)'") }
        if let listenTls {
            guard hostOnly else { throw ValidationError("--listen-tls goes with --host-only (a daemon with a slipway.yml has server.tls)") }
            guard ListenAddress(parsing: listenTls) != nil else { throw ValidationError("--listen-tls: expected HOST:PORT, got '\(listenTls)'") }
            guard cert != nil, key != nil, tokenFile != nil else { throw ValidationError("--listen-tls needs --cert, --key and --token-file") }
        } else if cert != nil || key != nil || tokenFile != nil {
            throw ValidationError("--cert, --key and --token-file go with --listen-tls")
        }
    }

    func run() async throws {
        var logger = Logger(label: "slipway")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        if hostOnly {
            let tls = try listenTls.map { address throws(SlipwayError) in
                try HostTLS(address: ListenAddress(parsing: address)!, files: TLSFiles(cert: cert!, key: key!), tokenFile: tokenFile!)
            }
            let agent = try HostAgent(root: HostRoot.resolve(root), executable: SelfExecutable.path, logger: logger, tls: tls)
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
