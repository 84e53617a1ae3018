import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import SlipwayCore
import SlipwayDashboard
import SlipwayEngine
import SlipwayFleet
import SlipwayHTTP
import UnixSignals

/// `slipway server`: reconciles, then serves the API on the admin socket and supervises until stopped.
public final class Daemon: Sendable {
    public let engine: Engine
    public let config: SlipwayConfig
    let logger: Logger
    let dashboard: Dashboard
    let group: ServiceGroup

    /// - Parameter runSchedules: fire `backup` schedules (tests that drive `Backups.runDueJobs` with their own clock turn it off).
    /// - Parameter cadence: how often the periodic work runs (`.standard`; tests pass `.brisk`).
    public init(config: SlipwayConfig, routerExecutable: String, routerArguments: [String] = [], logger: Logger, handleSignals: Bool = true,
                runSchedules: Bool = true, cadence: Cadence = .standard) throws(SlipwayError) {
        self.config = config
        self.logger = logger
        engine = try Engine(config: config, routerExecutable: routerExecutable, routerArguments: routerArguments, logger: logger, cadence: cadence)
        let socket = config.socketPath
        do { dashboard = try Dashboard(engine: engine, root: config.root, fleet: FleetBoard(config: config)) } catch {
            throw SlipwayError(.internal, "cannot prepare the dashboard (its session key under \(config.root))", cause: error)
        }
        let app = Application(
            router: APIRoutes.router(engine: engine, dashboard: dashboard),
            configuration: .init(address: .unixDomainSocket(path: socket), serverName: "slipway"),
            onServerRunning: { _ in chmod(socket, 0o600) },
            logger: logger)
        // A ServiceGroup stops its services in reverse order, each after the one before has finished.
        // The engine's periodic jobs (supervision, alerts, approvals, router liveness, retention), each its own service.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = engine.periodicJobs.map { .init(service: PeriodicService(job: $0, logger: logger)) }
        services.append(.init(service: NotificationService(engine: engine)))
        if runSchedules { services.append(.init(service: ScheduleService(engine: engine))) }
        services.append(.init(service: ContinuousService(engine: engine)))
        services.append(.init(service: app, successTerminationBehavior: .gracefullyShutdownGroup))
        if let listen = config.server.listen {
            // The same API over TCP: there is no peer to ask the kernel about, so every request needs a token.
            let configuration = ApplicationConfiguration(address: .hostname(listen.host, port: listen.port), serverName: "slipway")
            let tcp: any Service
            if let files = config.server.tls {
                tcp = Application(router: APIRoutes.router(engine: engine, dashboard: dashboard, secure: true),
                                  server: try Self.httpsServer(files), configuration: configuration, logger: logger)
            } else {
                tcp = Application(router: APIRoutes.router(engine: engine, dashboard: dashboard), configuration: configuration, logger: logger)
            }
            services.append(.init(service: tcp, successTerminationBehavior: .gracefullyShutdownGroup))
        }
        // After the API, so it stops first: running deployments end their current step while the API still answers.
        services.append(.init(service: DeploymentService(engine: engine)))
        // Told before the deployments: a scale under way ends its step, and autoscaling starts no new one.
        services.append(.init(service: AutoscaleService(engine: engine)))
        // After the deployments, so it is told first: the builds under way still start their deployments.
        services.append(.init(service: WebhookService(engine: engine)))
        // Last, so it is told first: open long polls on the event log answer before the API waits for them.
        services.append(.init(service: engine.events))
        group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            logger: logger))
    }

    /// HTTP/1.1 over TLS 1.2+ with the configured certificate chain and key.
    static func httpsServer(_ files: TLSFiles) throws(SlipwayError) -> HTTPServerBuilder {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.cert)
            let key = try NIOSSLPrivateKey(file: files.key, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            tls.minimumTLSVersion = .tlsv12
            return try .tls(.http1(), tlsConfiguration: tls)
        } catch {
            throw SlipwayError(.usage, "server.tls: cannot load the certificate \(files.cert) or the key \(files.key); expected PEM files "
                               + "(a certificate chain, and its unencrypted private key)", cause: error)
        }
    }

    /// Refuses to start beside a live daemon on the same root (`socket` answers); removes a stale socket file.
    static func claimSocket(_ socket: String, root: String) async throws(SlipwayError) {
        guard FileManager.default.fileExists(atPath: socket) else { return }
        if let r = try? await MiniHTTPClient().request("GET", .unix(path: socket), path: "/v1/health", timeout: .seconds(2)), r.status == 200 {
            throw .usage("another slipway daemon is already running for \(root) (socket \(socket))")
        }
        try? FileManager.default.removeItem(atPath: socket)
    }

    /// Reconciles state (re-adopts instances, ends interrupted deployments), then runs until shut down.
    public func run() async throws {
        try await Self.claimSocket(config.socketPath, root: config.root)
        try await engine.reconcile()
        logger.info("slipway daemon ready", metadata: ["daemon.socket": "\(config.socketPath)", "daemon.root": "\(config.root)"])
        do { try await group.run() } catch {
            await dashboard.fleet?.close()
            throw error
        }
        await dashboard.fleet?.close()
    }

    public func shutdown() async { await group.triggerGracefulShutdown() }
}

/// Runs one of the engine's periodic jobs every `job.period` (first at once) until the daemon stops.
struct PeriodicService: Service, CustomStringConvertible {
    let job: Engine.PeriodicJob
    let logger: Logger

    var description: String { "PeriodicService(\(job.name))" }

    func run() async throws {
        logger.debug("periodic job started", metadata: ["job": "\(job.name)", "job.period": "\(job.period)"])
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await job.run()
                try await Task.sleep(for: job.period)
            }
        }
    }
}

/// Feeds the notification outbox from the event log and delivers what is due (every `Cadence.notifications`).
struct NotificationService: Service {
    let engine: Engine

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await engine.notifications.pump()
                try await Task.sleep(for: engine.context.cadence.notifications)
            }
        }
    }
}

/// Runs the continuous archivers the config asks for (`backup.continuous`), looking again every 5 s, and publishes
/// their statuses every second; at shutdown each ships what it read before the daemon exits.
struct ContinuousService: Service {
    let engine: Engine

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var tick = 0
            while !Task.isCancelled {
                if tick % 5 == 0 { await engine.continuous.reconcile() } else { await engine.continuous.publish() }
                tick += 1
                try? await Task.sleep(for: .seconds(1))
            }
        }
        await engine.continuous.stopAll()
    }
}

/// Fires the backup, verify and drill schedules of `backup:` sections (cron, in their time zone).
struct ScheduleService: Service {
    let engine: Engine

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await engine.backups.runDueJobs()
                // Wake for the next slot, and at least every 30 s to pick up configuration changes.
                let next = engine.backups.nextScheduledRun()
                let wait = min(30, max(1, next.map { $0.timeIntervalSinceNow } ?? 30))
                try await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
            }
        }
    }
}
