import ArgumentParser
import Foundation
import Logging
import SlipwayCore
import SlipwayRouter

struct RouterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "Run the router (data plane): driven by the daemon over --control, or standalone with --listen/--upstream.")
    @Option(help: "Control socket (the daemon starts the router this way)") var control: String?
    @Option(help: "Where the route table is persisted") var state: String?
    @Option(help: "Standalone: HOST:PORT to listen on") var listen: String?
    @Option(help: "Standalone: HOST:PORT of a backend (repeatable)") var upstream: [String] = []
    @Option(help: "HOST:PORT to serve Prometheus /metrics on (the control socket serves /metrics too)") var metrics: String?
    @Option(help: "Event loop threads") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Standalone: do not add X-Forwarded-For/Proto/Host to requests") var noForwardedHeaders = false
    @Flag(help: "Standalone: do not add X-Request-Id to requests that have none") var noRequestIdHeader = false
    @Option(help: "Standalone: serve only this host, exact or *.DOMAIN (repeatable; others get 404)") var host: [String] = []
    @Option(help: "Standalone: HOST:PORT to serve HTTPS on (with --cert and --key)") var listenTls: String?
    @Option(help: "Standalone: the PEM certificate chain for --listen-tls (reloaded when it changes)") var cert: String?
    @Option(help: "Standalone: the PEM private key for --listen-tls") var key: String?
    @Flag(help: "Standalone: offer HTTP/2 on --listen-tls (ALPN h2)") var http2 = false

    func validate() throws {
        if control == nil && listen == nil { throw ValidationError("pass --control SOCKET (driven by the daemon) or --listen HOST:PORT with --upstream HOST:PORT") }
        if let listen, ListenAddress(parsing: listen) == nil { throw ValidationError("--listen: expected HOST:PORT, got '\(listen)'") }
        for u in upstream where ListenAddress(parsing: u) == nil { throw ValidationError("--upstream: expected HOST:PORT, got '\(u)'") }
        if listen != nil && upstream.isEmpty { throw ValidationError("--listen needs at least one --upstream HOST:PORT") }
        if let metrics, ListenAddress(parsing: metrics) == nil { throw ValidationError("--metrics: expected HOST:PORT, got '\(metrics)'") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        for h in host { if let why = RouteMatch.problem(host: h) { throw ValidationError("--host: \(why)") } }
        if let listenTls, ListenAddress(parsing: listenTls) == nil { throw ValidationError("--listen-tls: expected HOST:PORT, got '\(listenTls)'") }
        if (listenTls != nil) != (cert != nil) || (cert != nil) != (key != nil) {
            throw ValidationError("--listen-tls, --cert and --key go together: HTTPS needs an address, a certificate chain and its key")
        }
        if http2 && listenTls == nil { throw ValidationError("--http2 is offered over HTTPS: pass --listen-tls, --cert and --key too") }
        if listen == nil && listenTls != nil { throw ValidationError("--listen-tls applies to a standalone router (--listen); set router.listen_tls and router.tls in slipway.yml otherwise") }
        if listen == nil && (noForwardedHeaders || noRequestIdHeader || !host.isEmpty) {
            throw ValidationError("--no-forwarded-headers, --no-request-id-header and --host apply to a standalone router (--listen); set router.forwarded_headers / router.request_id_header / router.hosts in slipway.yml otherwise")
        }
    }

    func run() async throws {
        var logger = Logger(label: "slipway-router")
        logger.logLevel = .info
        var table: RouteTable?
        if let listen, let addr = ListenAddress(parsing: listen) {
            let backends = upstream.compactMap(ListenAddress.init(parsing:)).map { Backend(host: $0.host, port: $0.port) }
            var listener = ListenerTable(name: "default", listen: addr, pools: [Pool(name: "static", backends: backends)],
                                         forwardedHeaders: !noForwardedHeaders, requestIdHeader: !noRequestIdHeader)
            if !host.isEmpty { listener.route = RouteMatch(hosts: host) }
            if let listenTls, let tlsAddress = ListenAddress(parsing: listenTls), let cert, let key {
                func absolute(_ p: String) -> String { p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p }
                listener.tls = RouterTLS(listen: tlsAddress, certFile: absolute(cert), keyFile: absolute(key), redirect: false, http2: http2)
            }
            table = RouteTable(generation: 1, listeners: [listener])
        }
        try await RouterApplication.run(RouterOptions(controlSocket: control, stateFile: state, staticTable: table, threads: threads,
                                                   metricsListen: metrics.flatMap(ListenAddress.init(parsing:))), logger: logger)
    }
}

struct DemoAppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo-app", abstract: "The demo app (same as the demo-app executable).", shouldDisplay: false)
    @Argument(parsing: .allUnrecognized) var arguments: [String] = []

    func run() async throws {
        try await DemoAppRunner.run(arguments)
    }
}
