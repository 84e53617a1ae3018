import Foundation
import ServiceLifecycle
import UnixSignals
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SlipwayCore
import SlipwayRuntime

extension RouteTable: ResponseCodable {}

/// How `slipway router` runs: with a control socket and a persisted table (driven by the daemon),
/// or standalone with a static table (`--listen` / `--upstream`).
public struct RouterOptions: Sendable {
    public var controlSocket: String?
    public var stateFile: String?
    public var staticTable: RouteTable?
    public var threads: Int
    /// Where to serve `/metrics` over TCP for Prometheus (the control socket serves it too).
    public var metricsListen: ListenAddress?
    /// `slipway edge`: the state directory of a shared edge (apps register their routes on the control socket).
    public var edgeDirectory: String?

    public init(controlSocket: String? = nil, stateFile: String? = nil, staticTable: RouteTable? = nil, threads: Int = System.coreCount,
                metricsListen: ListenAddress? = nil, edgeDirectory: String? = nil) {
        self.edgeDirectory = edgeDirectory
        self.metricsListen = metricsListen
        self.controlSocket = controlSocket
        self.stateFile = stateFile
        self.staticTable = staticTable
        self.threads = threads
    }
}

public enum RouterApplication {
    /// Reads the persisted table; nil when there is none yet.
    public static func loadTable(_ path: String) throws -> RouteTable? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try JSONDecoder().decode(RouteTable.self, from: data)
    }

    /// Writes "PID START_TIME" (start time in clock ticks since boot, as /proc says) for the process answering
    /// on the control socket; written after the socket is renamed in, so the newest router owns it. Whether it
    /// was written (without it the daemon cannot tell a slow router from a gone one).
    static func writePidFile(_ path: String) -> Bool {
        let pid = getpid()
        do { try PrivateFile.write(Data("\(pid) \(ProcessInspector.startTime(pid) ?? 0)\n".utf8), to: path) } catch { return false }
        return true
    }

    /// Writes the table atomically, owner-only (it names every listener and instance port): a crash leaves the old
    /// table or the new one.
    public static func saveTable(_ table: RouteTable, to path: String) throws {
        try PrivateFile.write(try SlipwayJSON.encoder(pretty: true).encode(table), to: path)
    }

    /// Runs the router until SIGTERM/SIGINT, or until it has handed over to a new process (SIGHUP or
    /// `POST /v1/handover`) and drained.
    public static func run(_ options: RouterOptions, logger: Logger) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.threads))
        let inherited = ListenSocket.inherited(ProcessInfo.processInfo.environment[RouterHandover.inheritVariable])
        let proxy = ProxyServer(group: group, inherited: inherited, logger: logger)
        var initial = options.staticTable ?? RouteTable()
        if options.staticTable == nil, let file = options.stateFile, let saved = try loadTable(file) { initial = saved }
        let registry = options.edgeDirectory.map { EdgeRegistry(directory: $0, logger: logger) }
        if let registry { initial = await registry.merged() }
        try await proxy.apply(initial)
        logger.info("router started", metadata: ["router.generation": "\(initial.generation)", "router.pid": "\(getpid())",
                                                 "router.inherited": "\(inherited.count)"])
        let handover = RouterHandover(proxy: proxy, logger: logger)
        let drain = Duration.milliseconds(initial.listeners.map(\.drainTimeoutMs).max() ?? 10_000)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: HandoverService(handover: handover, proxy: proxy, drainTimeout: drain, logger: logger),
                  successTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if let socket = options.controlSocket {
            // Bound under a private name, then renamed over the socket path: the path always answers,
            // first from the old router and then from this one.
            let staging = "\(socket).\(getpid())"
            try? FileManager.default.removeItem(atPath: staging)
            // The edge's socket is for the apps' daemons (their users in the edge's group): 0660; a daemon's own router's, 0600.
            let mode: mode_t = registry == nil ? 0o600 : 0o660
            let running: @Sendable (any Channel) async -> Void = { _ in
                chmod(staging, mode)
                rename(staging, socket)
                // Who answers on the socket now: the daemon starts no second router while this one lives.
                if !RouterApplication.writePidFile(socket + ".pid") {
                    logger.error("cannot write the pid file; a slow answer may get a second router started", metadata: ["router.pidfile": "\(socket).pid"])
                }
                RouterHandover.signalReady()
            }
            let configuration = ApplicationConfiguration(address: .unixDomainSocket(path: staging), serverName: "slipway-router")
            if let registry {
                services.append(.init(service: Application(router: EdgeControl.router(proxy: proxy, registry: registry), configuration: configuration,
                                                           onServerRunning: running, logger: logger)))
            } else {
                services.append(.init(service: Application(router: controlRouter(proxy: proxy, stateFile: options.stateFile, handover: handover),
                                                           configuration: configuration, onServerRunning: running, logger: logger)))
            }
        } else {
            RouterHandover.signalReady()
            services.append(.init(service: UntilShutdown()))
        }
        if let metrics = options.metricsListen {
            let router = Router()
            router.get("/metrics") { _, _ in await metricsResponse(proxy) }
            services.append(.init(service: Application(router: router, configuration: .init(address: .hostname(metrics.host, port: metrics.port), serverName: "slipway-router"),
                                                       logger: logger)))
        }
        services.append(.init(service: CertificateWatch(proxy: proxy)))
        let acme = ACMEManager(issuer: ACMEIssuer(), responder: proxy.challenges, installed: { await proxy.reloadCertificates() },
                               onDemand: proxy.onDemand, logger: logger)
        proxy.onDemand.setProvider { environment, name, options in await acme.obtainOnDemand(environment: environment, name: name, options: options) }
        services.append(.init(service: ACMEService(proxy: proxy, manager: acme)))
        let serviceGroup = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do { try await serviceGroup.run() } catch {
            logger.error("the router stops on an error", metadata: ["error": "\(error)", "router.pid": "\(getpid())"])
            throw error
        }
        // Said in the log, so a router that went away can be told from one that was killed (which says nothing).
        logger.info("router stopped (a signal, or a handover done)", metadata: ["router.pid": "\(getpid())"])
        await proxy.closeAll()
        try await group.shutdownGracefully()
    }

    public static func controlRouter(proxy: ProxyServer, stateFile: String?, handover: RouterHandover? = nil) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v1/health") { _, _ -> Response in
            let table = await proxy.table
            return jsonResponse(["pid": Int(getpid()), "generation": table.generation])
        }
        router.get("/v1/table") { _, _ in await proxy.table }
        router.put("/v1/table") { request, context -> RouteTable in
            let table = try await request.decode(as: RouteTable.self, context: context)
            do {
                // Persisted only when it became current: a stale table must not come back after a restart.
                var persist: (@Sendable (RouteTable) throws -> Void)?
                if let stateFile { persist = { try saveTable($0, to: stateFile) } }
                try await proxy.apply(table, persist: persist)
            } catch let error as SlipwayError {
                throw HTTPError(.conflict, message: error.description)
            }
            return await proxy.table
        }
        router.get("/v1/stats") { _, _ -> Response in jsonResponse(await proxy.registry.report()) }
        router.post("/v1/handover") { request, context -> Response in
            guard let handover else { throw HTTPError(.notFound) }
            struct Body: Decodable { var executable: String?; var arguments: [String]? }
            let body = try? await request.decode(as: Body.self, context: context)
            do {
                let pid = try await handover.start(executable: body?.executable, arguments: body?.arguments)
                return jsonResponse(["pid": Int(pid)])
            } catch let error as SlipwayError {
                throw HTTPError(.conflict, message: error.description)
            }
        }
        router.get("/metrics") { _, _ in await metricsResponse(proxy) }
        router.get("/v1/held") { _, _ -> Response in jsonResponse(proxy.held()) }
        router.get("/v1/certificates") { _, _ -> Response in jsonResponse(ACMEManager.annotate(await proxy.certificates(), table: await proxy.table)) }
        router.post("/v1/acme/challenges") { request, context -> Response in
            let answer = try await request.decode(as: ChallengeAnswer.self, context: context)
            guard let published = ChallengeBoard.published(answer) else { throw HTTPError(.badRequest, message: "an incomplete \(answer.kind.rawValue) answer") }
            if answer.withdraw { await proxy.challenges.withdraw(published) } else { await proxy.challenges.publish(published) }
            return jsonResponse(["status": "ok"])
        }
        router.post("/v1/certificates/reload") { _, _ -> Response in
            await proxy.reloadCertificates()
            return jsonResponse(["status": "ok"])
        }
        router.get("/v1/addresses") { _, _ -> Response in
            let bound = await proxy.boundAddresses().mapValues(\.description)
            return jsonResponse(bound)
        }
        return router
    }

    static func metricsResponse(_ proxy: ProxyServer) async -> Response {
        let text = RouterMetrics.render(await proxy.registry.report(), held: proxy.held())
        return Response(status: .ok, headers: [.contentType: RouterMetrics.contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func jsonResponse<T: Encodable>(_ value: T) -> Response {
        do {
            let data = try SlipwayJSON.encoder().encode(value)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        } catch {
            let text = #"{"error":{"code":"internal","message":"the router could not encode its answer"}}"#
            return Response(status: .internalServerError, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

}

/// Runs until graceful shutdown is triggered.
struct UntilShutdown: Service {
    func run() async throws {
        try await gracefulShutdown()
    }
}
