import Foundation
import Hummingbird
import NIOCore
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
        router.get("/metrics") { _, _ in await RouterApplication.metricsResponse(proxy) }
        return router
    }
}
