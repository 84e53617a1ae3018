import Foundation

/// Who asked for a change, as the daemon attributes it: the verified user (`actor`), the client's own
/// claim when it differs (`on_behalf_of`, a note), and the OS uid the admin socket reported.
public struct Attribution: Codable, Sendable, Equatable {
    public var actor: String
    public var onBehalfOf: String?
    public var uid: UInt32?

    public init(actor: String, onBehalfOf: String? = nil, uid: UInt32? = nil) {
        self.actor = actor
        self.onBehalfOf = onBehalfOf
        self.uid = uid
    }

    enum CodingKeys: String, CodingKey { case actor, onBehalfOf = "on_behalf_of", uid }
}

/// A request that changes something: what was asked (`Body`) and who asked (`Attribution`). On the wire the
/// two sit side by side in one JSON object (`{"version": …, "actor": …, "on_behalf_of": …}`), as they always
/// did; in code the body's fields read through (`request.version`). Every such request type is an
/// `Attributed` of its body (`DeployRequest = Attributed<DeployBody>`), so the three fields and their
/// handling live here once.
@dynamicMemberLookup
public struct Attributed<Body: Codable & Sendable>: Codable, Sendable {
    public var body: Body
    public var attribution: Attribution

    public init(_ body: Body, actor: String) {
        self.body = body
        self.attribution = Attribution(actor: actor)
    }

    public subscript<T>(dynamicMember path: WritableKeyPath<Body, T>) -> T {
        get { body[keyPath: path] }
        set { body[keyPath: path] = newValue }
    }

    /// The claimed actor before the daemon attributes the request; the verified user's name after.
    public var actor: String {
        get { attribution.actor }
        set { attribution.actor = newValue }
    }
    /// Set by the daemon: the client's claimed actor, kept as a note.
    public var onBehalfOf: String? { attribution.onBehalfOf }
    /// Set by the daemon: the verified uid of the OS user who asked.
    public var uid: UInt32? { attribution.uid }

    /// The verified actor (after the daemon attributed the request).
    public var by: Principal { Principal(name: actor, uid: uid, via: uid == nil ? .daemon : .socket, onBehalfOf: onBehalfOf) }

    /// This request as made by `verified`: the client's claim becomes the `on_behalf_of` note.
    public func attributed(to verified: Principal) -> Self {
        var copy = self
        let claim = actor.trimmingCharacters(in: .whitespaces)
        copy.attribution = Attribution(actor: verified.name, onBehalfOf: claim.isEmpty || claim == verified.name ? nil : String(claim.prefix(200)),
                                       uid: verified.uid)
        return copy
    }

    public init(from decoder: any Decoder) throws {
        body = try Body(from: decoder)
        attribution = try Attribution(from: decoder)
    }

    /// The body's fields and the attribution's in the same JSON object.
    public func encode(to encoder: any Encoder) throws {
        try body.encode(to: encoder)
        try attribution.encode(to: encoder)
    }
}
