import Foundation
import HTTPTypes
import Hummingbird
import SlipwayCore
import SlipwayEngine
import SlipwayStore
import SlipwayDashboard
import Synchronization

/// Who is asking and whether they may: `Authorization: Bearer TOKEN` names a token's user and roles
/// (unknown, expired or revoked: 401); without one, the admin socket's user as the kernel reports it
/// (`admin`). Every route needs the role `APIAuthorization.table` gives it; a route missing from the
/// table is refused to everyone (403). Refusals are audited; the token itself is never written anywhere.
struct AuthorizationMiddleware: RouterMiddleware {
    typealias Context = SlipwayRequestContext
    let access: Access
    /// Checks dashboard session cookies (nil: no dashboard on this listener).
    let signer: SessionSigner?
    /// Failed authentications per source address (shared by every request of this listener).
    let limiter = Limiter()

    final class Limiter: Sendable {
        let state = Mutex(AuthFailureLimiter())
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Every audit entry written while serving this request names where it came from and its id.
        let origin = RequestOrigin(source: context.channel?.remoteAddress?.ipAddress ?? "socket",
                                   requestId: RequestOrigin.acceptable(request.headers[Self.requestIdField]) ?? Self.newRequestId())
        var response: Response
        do {
            response = try await RequestOrigin.$current.withValue(origin) { try await limited(request, context: context, next: next) }
        } catch {
            response = APIResponse.from(error, path: request.uri.path)  // answered here, so it carries the request id too
        }
        response.headers[Self.requestIdField] = origin.requestId
        return response
    }

    static let requestIdField = HTTPField.Name("X-Request-Id")!

    static func newRequestId() -> String { Hex.random(bytes: 16) }

    private func limited(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let method = request.method.rawValue, path = request.uri.path
        // Per source address on the TCP listener; the admin socket's users are identified by the kernel.
        guard let source = context.channel?.remoteAddress?.ipAddress else {
            return try await authorize(request, context: context, method: method, path: path, next: next)
        }
        if let until = limiter.state.withLock({ $0.blockedUntil(source, now: Date()) }) {
            return Self.refuse(.tooManyRequests, "too many failed authentications from \(source); try again in \(Int(until.timeIntervalSinceNow.rounded(.up)))s")
        }
        let response = try await authorize(request, context: context, method: method, path: path, next: next)
        if response.status == .unauthorized { limiter.state.withLock { $0.fail(source, now: Date()) } }
        return response
    }

    private func authorize(_ request: Request, context: Context, method: String, path: String,
                           next: (Request, Context) async throws -> Response) async throws -> Response {
        // The provider signs the body; the route checks it (a failure there is a 401 that counts above).
        if APIAuthorization.isSigned(method: method, path: path) || APIAuthorization.isOpen(method: method, path: path) {
            return try await next(request, context)
        }
        var context = context
        let who: Principal
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer "), header.count > 7 else {
                return Self.refuse(.unauthorized, "the Authorization header must be 'Bearer TOKEN'")
            }
            switch try access.check(token: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)) {
            case .valid(let info):
                who = .token(info.user, roles: info.roles)
                context.tokenId = info.id
            case .unknown:
                try access.audit(Principal(name: "(unknown token)", via: .token), action: "auth.failed", target: "\(method) \(path)", outcome: "refused",
                            detail: "no such token")
                return Self.refuse(.unauthorized, "the token is not valid")
            case .expired:
                return Self.refuse(.unauthorized, "the token has expired; an admin can create a new one (slipway token create)")
            case .revoked:
                return Self.refuse(.unauthorized, "the token was revoked")
            }
        } else if Self.isDashboardRoute(path), let session = dashboardSession(request) {
            who = session.principal
            context.dashboardSession = session
            context.tokenId = session.tokenId
        } else if Self.isDashboardPage(method: method, path: path), context.channel?.remoteAddress?.ipAddress != nil {
            // A browser without a (valid) session: to the sign-in page, not a JSON error.
            return Response(status: .seeOther, headers: [.location: "/ui/login"])
        } else {
            guard let peer = try? await context.kernelPrincipal() else {
                return Self.refuse(.unauthorized, "send a token (Authorization: Bearer …, or --token / SLIPWAY_TOKEN; slipway token create makes one): only the admin socket identifies its users")
            }
            who = peer
        }
        context.authenticated = who
        guard let needed = APIAuthorization.required(method: method, path: path) else {
            return Self.refuse(.forbidden, "no authorization rule covers \(method) \(path)")
        }
        guard who.may(needed) else {
            try access.audit(who, action: "auth.denied", target: "\(method) \(path)", outcome: "refused",
                        detail: "needs \(needed.rawValue); has \(who.roles.map(\.rawValue).joined(separator: ", "))")
            return Self.refuse(.forbidden, "\(who.name) (\(who.roles.map(\.rawValue).joined(separator: ", "))) may not \(method) \(path): it needs the \(needed.rawValue) role")
        }
        var origin = RequestOrigin.current
        origin?.roles = who.roles
        return try await RequestOrigin.$current.withValue(origin) { try await next(request, context) }
    }

    /// The session in the `slipway_session` cookie, when its signature holds, it has not expired, and the token it
    /// was made from is still valid (revoking a token ends its sessions).
    func dashboardSession(_ request: Request) -> DashboardSession? {
        guard let signer, let header = request.headers[.cookie] else { return nil }
        for part in header.split(separator: ";") {
            let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0] == "slipway_session", let session = signer.session(from: String(kv[1])) else { continue }
            guard let id = session.tokenId else { return session }
            guard access.isActive(token: id) else { return nil }
            return session
        }
        return nil
    }

    /// Where a session cookie counts: the dashboard's own routes (whose posts check its CSRF token), never the
    /// JSON API, which has no CSRF check and takes tokens only.
    static func isDashboardRoute(_ path: String) -> Bool { path == "/" || path == "/ui" || path.hasPrefix("/ui/") }

    static func isDashboardPage(method: String, path: String) -> Bool { method == "GET" && isDashboardRoute(path) }

    static func refuse(_ status: HTTPResponse.Status, _ message: String) -> Response {
        APIResponse.failure(SlipwayError(.policy, message), status: status)
    }
}
