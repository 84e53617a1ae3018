import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SlipwayCore
import UnixSignals

/// `slipway server --host-only [--root DIR]`: a fleet host's daemon. It needs no `slipway.yml`: controllers stage each
/// app's config snapshot and releases under its root and activate them through its API (`HostApps`), spoken over
/// `<root>/slipway.sock` (0600), which `slipway server dial-stdio` on the far end of an ssh connection bridges to.
public final class HostAgent: Sendable {
    let apps: HostApps
    let socket: String
    let group: ServiceGroup
    let logger: Logger

    public static let defaultRoot = "/var/lib/slipway"

    /// `tls`: also serve the host API over HTTPS, to controllers presenting its token.
    public init(root: String, executable: String, logger: Logger, tls: HostTLS? = nil, handleSignals: Bool = true) throws(SlipwayError) {
        do { try FileManager.default.createDirectory(atPath: root + "/apps", withIntermediateDirectories: true) } catch {
            throw SlipwayError(.usage, "cannot create the host root \(root)", cause: error)
        }
        let apps = try HostApps(root: root, executable: executable, logger: logger)
        self.apps = apps
        self.logger = logger
        let socket = root + "/slipway.sock"
        self.socket = socket
        let app = Application(router: Self.router(apps), configuration: .init(address: .unixDomainSocket(path: socket), serverName: "slipway-host"),
                              onServerRunning: { _ in chmod(socket, 0o600) }, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: app, successTerminationBehavior: .gracefullyShutdownGroup)]
        if let tls {
            let https = Application(router: Self.router(apps, tls: tls), server: try Daemon.httpsServer(tls.files),
                                    configuration: .init(address: .hostname(tls.address.host, port: tls.address.port), serverName: "slipway-host"), logger: logger)
            services.append(.init(service: https, successTerminationBehavior: .gracefullyShutdownGroup))
        }
        group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: logger))
    }

    static func router(_ apps: HostApps, tls: HostTLS? = nil) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        if let tls { router.add(middleware: HostTokenMiddleware(tls: tls)) }
        let v1 = router.group("v1")
        v1.get("health") { _, _ in APIResponse.json(["status": "ok", "pid": "\(getpid())", "role": "host"]) }
        let host = v1.group("host")
        host.get("status") { _, _ in APIResponse.json(await apps.status()) }
        host.put("apps/:app/config") { request, context in
            let body = try await APIResponse.decode(HostConfigRequest.self, from: request)
            try await apps.setConfig(app: try context.parameters.require("app"), yaml: body.yaml)
            return APIResponse.json(["status": "ok"])
        }
        host.post("apps/:app/releases/:version") { request, context in
            let app = try context.parameters.require("app"), version = try context.parameters.require("version")
            guard let digest = request.uri.queryParameters.get("digest"), digest.hasPrefix("sha256:") else {
                throw SlipwayError.usage("expected ?digest=sha256:… (the release's content digest)")
            }
            let archive = NSTemporaryDirectory() + "slipway-stage-\(UUID().uuidString).tar.gz"
            defer { try? FileManager.default.removeItem(atPath: archive) }
            try await Self.keep(request.body, at: archive, what: "the uploaded artifact")
            return APIResponse.json(try await apps.stage(app: app, version: version, digest: digest, archive: archive))
        }
        host.get("apps/:app/images") { request, context in
            APIResponse.json(try await apps.image(app: try context.parameters.require("app"), try Self.image(request)))
        }
        host.post("apps/:app/images") { request, context in
            let image = try Self.image(request)
            let archive = NSTemporaryDirectory() + "slipway-image-\(UUID().uuidString).tar.gz"
            defer { try? FileManager.default.removeItem(atPath: archive) }
            try await Self.keep(request.body, at: archive, what: "the uploaded image")
            return APIResponse.json(try await apps.loadImage(app: try context.parameters.require("app"), image, archive: archive))
        }
        host.get("apps/:app/traffic") { request, context in
            guard let env = request.uri.queryParameters.get("env") else { throw SlipwayError.usage("expected ?env=ENVIRONMENT") }
            return APIResponse.json(try await apps.traffic(app: try context.parameters.require("app"), environment: String(env)))
        }
        host.get("apps/:app/samples") { request, context in
            guard let env = request.uri.queryParameters.get("env") else { throw SlipwayError.usage("expected ?env=ENVIRONMENT") }
            return APIResponse.json(try await apps.samples(app: try context.parameters.require("app"), environment: String(env)))
        }
        host.get("apps/:app/rollback-plan") { request, context in
            guard let env = request.uri.queryParameters.get("env") else { throw SlipwayError.usage("expected ?env=ENVIRONMENT") }
            return APIResponse.json(try await apps.rollbackPlan(app: try context.parameters.require("app"), environment: String(env),
                                                                version: request.uri.queryParameters.get("version").map { String($0) }))
        }
        host.post("apps/:app/maintenance") { request, context in
            let body = try await APIResponse.decode(MaintenanceRequest.self, from: request)
            try await apps.maintenance(app: try context.parameters.require("app"), body)
            return APIResponse.json(["status": "ok"])
        }
        host.post("apps/:app/lease") { request, context in
            let body = try await APIResponse.decode(HostLeaseRequest.self, from: request)
            return APIResponse.json(try await apps.lease(app: try context.parameters.require("app"), body))
        }
        host.post("apps/:app/activate") { request, context in
            let body = try await APIResponse.decode(HostActivateRequest.self, from: request)
            return APIResponse.json(try await apps.activate(app: try context.parameters.require("app"), body, deadline: Self.deadline(request)))
        }
        host.post("apps/:app/revert") { request, context in
            let body = try await APIResponse.decode(HostRevertRequest.self, from: request)
            return APIResponse.json(try await apps.revert(app: try context.parameters.require("app"), body, deadline: Self.deadline(request)))
        }
        // A fleet's certificate (router.acme with shared state): the controller's challenge answers, and what the CA issued.
        host.post("apps/:app/acme/challenges") { request, context in
            let body = try await APIResponse.decode(ChallengeAnswer.self, from: request)
            try await apps.challenge(app: try context.parameters.require("app"), body)
            return APIResponse.json(["status": "ok"])
        }
        host.put("apps/:app/certificates/:env") { request, context in
            let body = try await APIResponse.decode(CertificateInstall.self, from: request)
            try await apps.installCertificate(app: try context.parameters.require("app"), environment: try context.parameters.require("env"), body)
            return APIResponse.json(["status": "ok"])
        }
        return router
    }

    /// `?id=sha256:…&reference=REF&runtime=podman|docker`: the image an image release pins.
    static func image(_ request: Request) throws(SlipwayError) -> ReleaseImage {
        let q = request.uri.queryParameters
        guard let id = q.get("id"), id.hasPrefix("sha256:"), let runtime = q.get("runtime").flatMap({ ContainerRuntime(rawValue: String($0)) }), runtime != .process else {
            throw .usage("expected ?id=sha256:…&runtime=podman|docker (an image release's image)")
        }
        return ReleaseImage(reference: q.get("reference").map { String($0) } ?? String(id), id: String(id), runtime: runtime)
    }

    /// Writes an upload to `path` as it arrives (an artifact or an image is never held in memory whole).
    static func keep(_ body: RequestBody, at path: String, what: String) async throws {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let file = FileHandle(forWritingAtPath: path) else { throw SlipwayError(.internal, "cannot keep \(what) at \(path)") }
        defer { try? file.close() }
        do {
            for try await buffer in body { try file.write(contentsOf: buffer.readableBytesView) }
        } catch let error as SlipwayError { throw error } catch {
            throw SlipwayError(.internal, "cannot keep \(what)", cause: error)
        }
    }

    /// `?deadline=SECONDS` (default 120): how long an activation may take here.
    static func deadline(_ request: Request) -> Duration {
        .seconds(request.uri.queryParameters.get("deadline").flatMap { Int($0) }.map { max(1, min($0, 86_400)) } ?? 120)
    }

    public func run() async throws {
        try await Daemon.claimSocket(socket, root: (socket as NSString).deletingLastPathComponent)
        logger.info("slipway host daemon ready", metadata: ["daemon.socket": "\(socket)"])
        try await group.run()
    }
}
