import Hummingbird
import NIOCore
import SlipwayCore
import SlipwayDashboard

/// The API's request context: Hummingbird's core storage plus the connection, so a route can ask the
/// kernel who is on the other end of the admin socket.
public struct SlipwayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The accepted connection (nil under the in-process test client, which has no socket).
    let channel: (any Channel)?
    /// Who `AuthorizationMiddleware` established: a token's user and roles, or the socket's user (admin).
    var authenticated: Principal?
    /// The dashboard session the request came with (its forms' CSRF token derives from it).
    var dashboardSession: DashboardSession?
    /// The token behind the request (a bearer token, or the session's), for links made from it.
    var tokenId: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Who is asking, from what the kernel says about the connection (`SO_PEERCRED`): the uid and its OS
    /// user name. A connection the kernel cannot vouch for is refused.
    func principal() async throws -> Principal {
        if let authenticated { return authenticated }
        return try await kernelPrincipal()
    }

    /// The admin socket's peer, as the kernel reports it; it may do everything (`admin`).
    func kernelPrincipal() async throws -> Principal {
        guard let channel, let peer = await PeerCredentials.of(channel) else {
            throw SlipwayError(.policy, "the daemon cannot tell who is asking (no peer credentials on this connection); use the admin socket")
        }
        return Principal(name: PeerCredentials.userName(uid: peer.uid), uid: peer.uid, via: .socket)
    }

    /// `body` as asked by the verified user: the client's claimed actor is kept only as `on_behalf_of`.
    func attributed<Body>(_ body: Attributed<Body>) async throws -> Attributed<Body> {
        // The await comes first, on its own: with it inside the call's arguments (`body.attributed(to: try
        // await principal())`) the Swift 6.3.1 build handed back a corrupted request now and then.
        let who = try await principal()
        return body.attributed(to: who)
    }
}
