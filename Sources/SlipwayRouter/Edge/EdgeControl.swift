import Foundation
import Hummingbird
import NIOCore
import SlipwayACME
import SlipwayCore
#if canImport(Glibc)
import Glibc
#endif

/// A control request on the edge's socket, with the channel it came on (to learn the caller's uid).
struct EdgeRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// `struct ucred` of Linux (pid_t, uid_t, gid_t), which Swift's Glibc module does not export.
    struct PeerCredentials {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// The caller's uid (`SO_PEERCRED` on the Unix socket); nil when the socket cannot tell.
    func peerUID() async -> UInt32? {
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        let cred: PeerCredentials? = try? await provider.unsafeGetSocketOption(level: .socket, name: .init(rawValue: SO_PEERCRED)).get()
        return cred?.uid
    }
}

/// The shared edge's control API: per app (`/v1/apps/{app}/…`), the same calls a daemon makes on its own
/// router, each scoped to that app's listeners; `/v1/health` and `/metrics` for the whole edge.
enum EdgeControl {
    static func router(proxy: ProxyServer, registry: EdgeRegistry) -> Router<EdgeRequestContext> {
        let router = Router(context: EdgeRequestContext.self)
        router.get("/v1/health") { _, _ -> Response in
            RouterApplication.jsonResponse(["pid": Int(getpid()), "generation": await proxy.table.generation])
        }
        router.get("/v1/apps") { _, _ -> Response in
            let apps = await registry.apps
            return RouterApplication.jsonResponse(apps.mapValues { app in app.table.listeners.flatMap { $0.route?.hosts ?? ["*"] } })
        }
        router.put("/v1/apps/{app}/table") { request, context -> Response in
            let app = try context.parameters.require("app")
            let table = try await request.decode(as: RouteTable.self, context: context)
            do {
                try await registry.register(app: app, table: table, uid: await context.peerUID()) { merged throws(SlipwayError) in
                    try await proxy.apply(merged)
                }
            } catch let error as SlipwayError {
                throw HTTPError(error.code == .policy ? .forbidden : (error.code == .usage ? .badRequest : .conflict), message: error.message)
            }
            return RouterApplication.jsonResponse(table)
        }
        router.delete("/v1/apps/{app}") { _, context -> Response in
            let app = try context.parameters.require("app")
            do {
                try await registry.remove(app: app, uid: await context.peerUID()) { merged throws(SlipwayError) in try await proxy.apply(merged) }
            } catch let error as SlipwayError {
                throw HTTPError(error.code == .policy ? .forbidden : .conflict, message: error.message)
            }
            return RouterApplication.jsonResponse(["removed": app])
        }
        router.get("/v1/apps/{app}/table") { _, context -> Response in
            let app = try context.parameters.require("app")
            return RouterApplication.jsonResponse(await registry.apps[app]?.table ?? RouteTable())
        }
        router.get("/v1/apps/{app}/stats") { _, context -> Response in
            RouterApplication.jsonResponse(EdgeRegistry.scoped(await proxy.registry.report(), app: try context.parameters.require("app")))
        }
        router.get("/v1/apps/{app}/held") { _, context -> Response in
            RouterApplication.jsonResponse(EdgeRegistry.scoped(proxy.held(), app: try context.parameters.require("app")))
        }
        router.get("/v1/apps/{app}/addresses") { _, context -> Response in
            RouterApplication.jsonResponse(EdgeRegistry.scoped(await proxy.boundAddresses().mapValues(\.description), app: try context.parameters.require("app")))
        }
        router.get("/v1/apps/{app}/certificates") { _, context -> Response in
            let app = try context.parameters.require("app")
            let all = ACMEManager.annotate(await proxy.certificates(), table: await proxy.table)
            return RouterApplication.jsonResponse(all.compactMap { c -> CertificateInfo? in
                guard let environment = EdgeRegistry.environment(of: c.environment, app: app) else { return nil }
                var mine = c
                mine.environment = environment
                return mine
            })
        }
        // A fleet's certificate (its controller orders it): the app's challenge answers, scoped to the hosts it routes,
        // and the certificate, into its own listener's files.
        router.post("/v1/apps/{app}/acme/challenges") { request, context -> Response in
            let app = try context.parameters.require("app")
            let answer = try await request.decode(as: ChallengeAnswer.self, context: context)
            guard let published = ChallengeBoard.published(answer) else { throw HTTPError(.badRequest, message: "an incomplete \(answer.kind.rawValue) answer") }
            try await Self.refusing {
                let scope = try await registry.claims(app: app, uid: await context.peerUID())
                if case .tlsALPN01(let name, _, _) = published, !scope.covers(name) {
                    throw SlipwayError(.policy, "app '\(app)' does not route \(name) on this edge")
                }
                if answer.withdraw { proxy.challenges.withdraw(published, scope: scope) } else { proxy.challenges.publish(published, scope: scope) }
            }
            return RouterApplication.jsonResponse(["status": "ok"])
        }
        router.put("/v1/apps/{app}/certificates/{env}") { request, context -> Response in
            let app = try context.parameters.require("app"), env = try context.parameters.require("env")
            let install = try await request.decode(as: CertificateInstall.self, context: context)
            guard let facts = CertificateFacts(pem: install.chainPEM), !facts.isPlaceholder else { throw HTTPError(.badRequest, message: "the certificate does not parse as a PEM chain") }
            try await Self.refusing {
                let files = try await registry.fleetCertificateFiles(app: app, environment: env, uid: await context.peerUID(), names: facts.names)
                do { try ACMEFiles.writePair(certificatePEM: install.chainPEM, keyPEM: install.keyPEM, certFile: files.cert, keyFile: files.key) } catch {
                    throw SlipwayError(.internal, "the edge cannot write \(files.cert)", cause: error)
                }
            }
            await proxy.reloadCertificates()
            return RouterApplication.jsonResponse(["status": "ok"])
        }
        router.post("/v1/apps/{app}/certificates/reload") { _, _ -> Response in
            await proxy.reloadCertificates()
            return RouterApplication.jsonResponse(["status": "ok"])
        }
        router.get("/metrics") { _, _ in await RouterApplication.metricsResponse(proxy) }
        return router
    }

    /// Runs `body`, its refusals as HTTP errors: 403 for policy (another app's host or user), 404, 400 for usage, else 500.
    static func refusing(_ body: () async throws -> Void) async throws {
        do { try await body() } catch let error as SlipwayError {
            let status: HTTPResponse.Status = switch error.code {
            case .policy: .forbidden
            case .notFound: .notFound
            case .usage: .badRequest
            default: .internalServerError
            }
            throw HTTPError(status, message: error.message)
        }
    }
}
