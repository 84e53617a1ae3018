import Foundation

/// Who asked for a change. The daemon sets it from what it can prove (the kernel's `SO_PEERCRED` on the
/// admin socket); what a client merely claims (`SLIPWAY_ACTOR`) is kept beside it as `onBehalfOf`.
/// The governance work extends `via` with tokens and roles.
public struct Principal: Codable, Sendable, Equatable, CustomStringConvertible {
    public enum Via: String, Codable, Sendable {
        /// A local user on the admin socket, identified by the kernel.
        case socket
        /// The daemon itself: the scheduler, recovery, the supervisor.
        case daemon
        /// An API token (its user and roles).
        case token
    }

    /// The OS user name (or the daemon's role, e.g. `scheduler`).
    public var name: String
    public var uid: UInt32?
    public var via: Via
    /// Free text the client sent (`SLIPWAY_ACTOR`): a note, never an identity.
    public var onBehalfOf: String?
    /// What it may do: a token's roles; the admin socket's user and the daemon are `admin`.
    public var roles: [Role] = [.admin]

    public var role: Role { roles.max() ?? .viewer }
    public func may(_ needed: Role) -> Bool { roles.contains { $0.grants(needed) } }

    public init(name: String, uid: UInt32? = nil, via: Via, onBehalfOf: String? = nil) {
        self.name = name
        self.uid = uid
        self.via = via
        self.onBehalfOf = onBehalfOf.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A token's user (or a dashboard session made from one) with its roles.
    public static func token(_ user: String, roles: [Role]) -> Principal {
        var p = Principal(name: user, via: .token)
        p.roles = roles
        return p
    }

    /// The daemon acting on its own (scheduler, recovery).
    public static func daemon(_ role: String) -> Principal { Principal(name: role, via: .daemon) }

    /// `alice`, or `alice (on behalf of: ticket-42)`.
    public var description: String { onBehalfOf.map { "\(name) (on behalf of: \($0))" } ?? name }

    enum CodingKeys: String, CodingKey {
        case name, uid, via, roles
        case onBehalfOf = "on_behalf_of"
    }
}
