import Foundation
import Hummingbird
import SlipwayCore
import SlipwayEngine

extension APIRoutes {
    /// `POST /v1/tokens` (the only answer that carries a token), `GET /v1/tokens`, `POST /v1/tokens/revoke`.
    static func addTokenRoutes(_ v1: RouterGroup<SlipwayRequestContext>, engine: Engine) {
        let access = engine.access
        v1.post("tokens") { request, context in
            let body = try await APIResponse.decode(TokenCreateRequest.self, from: request)
            return APIResponse.json(try access.createToken(body, by: try await context.principal()), status: .created)
        }
        v1.get("tokens") { _, _ in APIResponse.json(try access.tokens()) }
        v1.post("tokens/revoke") { request, context in
            let body = try await APIResponse.decode(TokenRevokeRequest.self, from: request)
            return APIResponse.json(try access.revokeToken(body.id, by: try await context.principal()))
        }
    }
}
