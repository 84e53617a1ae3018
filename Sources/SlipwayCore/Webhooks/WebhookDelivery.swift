import Foundation

/// One webhook request as the provider sent it, read without trusting it yet: which delivery, what happened.
public struct WebhookDelivery: Sendable, Equatable {
    public enum Event: Sendable, Equatable {
        /// A ref now points at `commit` (a branch push or a tag).
        case ref(ref: String, commit: String)
        /// GitHub's hello when a hook is added.
        case ping
        /// Anything else (another event type, a deleted ref): acknowledged, nothing done.
        case ignored(String)
    }

    public var provider: WebhookSettings.Provider
    /// `X-GitHub-Delivery`, or GitLab's `X-Gitlab-Event-UUID` (`Idempotency-Key`).
    public var id: String
    public var event: Event

    /// `headers` with lowercased names. Throws a usage error (400) for a request no provider would send.
    public init(provider: WebhookSettings.Provider, headers: [String: String], body: [UInt8]) throws(SlipwayError) {
        self.provider = provider
        let idHeaders = provider == .github ? ["x-github-delivery"] : ["x-gitlab-event-uuid", "idempotency-key"]
        guard let id = idHeaders.lazy.compactMap({ headers[$0] }).first, !id.isEmpty, id.count <= 200 else {
            throw .usage("the request has no delivery id (\(idHeaders.joined(separator: " or ")))")
        }
        self.id = id
        let kind = headers[provider == .github ? "x-github-event" : "x-gitlab-event"] ?? ""
        switch (provider, kind) {
        case (.github, "ping"):
            event = .ping
        case (.github, "push"), (.gitlab, "Push Hook"), (.gitlab, "Tag Push Hook"):
            let payload: Payload
            do { payload = try JSONDecoder().decode(Payload.self, from: Data(body)) } catch {
                throw SlipwayError(.usage, "the \(kind) payload is not the JSON \(provider.rawValue) sends", cause: error)
            }
            // GitLab names the commit checkout_sha (null when the ref was deleted); GitHub names it after.
            let commit = (provider == .gitlab ? payload.checkoutSHA : payload.after) ?? ""
            if payload.deleted == true || commit.isEmpty || commit.allSatisfy({ $0 == "0" }) {
                event = .ignored("\(payload.ref) was deleted")
            } else if commit.count < 40 || !commit.allSatisfy(\.isHexDigit) {
                throw .usage("the payload's commit '\(commit.prefix(64))' is not a git object id")
            } else {
                event = .ref(ref: payload.ref, commit: commit)
            }
        default:
            event = .ignored("event '\(kind.prefix(64))' is not a push or a tag")
        }
    }

    struct Payload: Decodable {
        var ref: String
        var after: String?
        var checkoutSHA: String?
        var deleted: Bool?
        enum CodingKeys: String, CodingKey { case ref, after, checkoutSHA = "checkout_sha", deleted }
    }
}
