import NIOSSL
import SlipwayACME
import SlipwayCore
import Synchronization

/// The ACME challenges being validated right now, answered by the router itself: HTTP-01 tokens on any plain
/// listener (`/.well-known/acme-challenge/TOKEN`), TLS-ALPN-01 certificates at handshakes offering `acme-tls/1`.
/// The request path reads one atomic counter while nothing is pending.
final class ChallengeBoard: ChallengeResponder, Sendable {
    /// A TLS-ALPN-01 answer: the self-signed certificate with the acmeIdentifier extension.
    struct ALPNAnswer: Sendable {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
    }

    /// HTTP-01 tokens: the key authorization, and the hosts it may be answered for (nil: any host; the edge scopes an
    /// app's answers to the hosts that app routes, so one app cannot prove another's name).
    private let tokens = Mutex<[String: (answer: String, scope: RouteMatch?)]>([:])
    private let alpn = Mutex<[String: ALPNAnswer]>([:])
    /// HTTP-01 tokens published (the request path looks at the target only when this is not 0).
    let pendingHTTP = Atomic<Int>(0)

    /// The key authorization for an HTTP-01 token asked for on `host`.
    func http01(token: Substring, host: String?) -> String? {
        guard let entry = tokens.withLock({ $0[String(token)] }) else { return nil }
        guard let scope = entry.scope else { return entry.answer }
        return host.map(scope.covers) == true ? entry.answer : nil
    }

    /// The TLS-ALPN-01 certificate for a name under validation.
    func tlsALPN01(name: String?) -> ALPNAnswer? {
        guard let name else { return nil }
        return alpn.withLock { $0.isEmpty ? nil : $0[name.lowercased()] }
    }

    func publish(_ challenge: PublishedChallenge) async { publish(challenge, scope: nil) }

    func withdraw(_ challenge: PublishedChallenge) async { withdraw(challenge, scope: nil) }

    /// `scope`: an HTTP-01 answer is given only for a request to one of these hosts (nil: any).
    func publish(_ challenge: PublishedChallenge, scope: RouteMatch?) {
        switch challenge {
        case .http01(let token, let keyAuthorization):
            // Counted once per token, as `withdraw` uncounts it: a token published again does not keep the count up.
            if tokens.withLock({ $0.updateValue((keyAuthorization, scope), forKey: token) }) == nil { pendingHTTP.add(1, ordering: .releasing) }
        case .tlsALPN01(let name, let certificatePEM, let keyPEM):
            guard let chain = try? NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)),
                  let key = try? NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem) else { return }
            alpn.withLock { $0[name.lowercased()] = ALPNAnswer(chain: chain, key: key) }
        }
    }

    /// `scope`: only an answer published with this scope is taken down (an app on the edge withdraws its own).
    func withdraw(_ challenge: PublishedChallenge, scope: RouteMatch?) {
        switch challenge {
        case .http01(let token, _):
            let removed = tokens.withLock { t -> Bool in
                guard let entry = t[token], scope == nil || entry.scope == scope else { return false }
                t[token] = nil
                return true
            }
            if removed { pendingHTTP.subtract(1, ordering: .releasing) }
        case .tlsALPN01(let name, _, _):
            _ = alpn.withLock { $0.removeValue(forKey: name.lowercased()) }
        }
    }
}

extension ChallengeBoard {
    /// A fleet controller's answer as the board keeps it; nil when a part its kind needs is missing.
    static func published(_ a: ChallengeAnswer) -> PublishedChallenge? {
        switch a.kind {
        case .http01:
            guard let token = a.token, let keyAuthorization = a.keyAuthorization else { return nil }
            return .http01(token: token, keyAuthorization: keyAuthorization)
        case .tlsALPN01:
            guard let name = a.name, let cert = a.certificatePEM, let key = a.keyPEM else { return nil }
            return .tlsALPN01(name: name, certificatePEM: cert, keyPEM: key)
        }
    }
}
