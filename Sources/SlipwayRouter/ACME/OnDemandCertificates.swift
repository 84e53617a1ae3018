import Foundation
import NIOSSL
import SlipwayCore
import Synchronization

/// Certificates obtained on demand (for names a route takes but no configured certificate covers), by name:
/// the handshake path reads them from memory, and asks `provider` (the ACME manager) for one it lacks while
/// the handshake waits.
final class OnDemandCertificates: Sendable {
    struct Entry: Sendable {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        let notAfter: Date
    }

    typealias Provider = @Sendable (_ environment: String, _ name: String, _ options: ACMEOptions) async -> Entry?

    private let cache = Mutex<[String: Entry]>([:])
    private let provider = Mutex<Provider?>(nil)

    func cached(_ name: String) -> Entry? {
        let now = Date()
        return cache.withLock { all in all[name].flatMap { $0.notAfter > now ? $0 : nil } }
    }

    func store(_ name: String, _ entry: Entry) { cache.withLock { $0[name] = entry } }

    func setProvider(_ p: @escaping Provider) { provider.withLock { $0 = p } }

    /// A certificate for `name`, from memory or from the provider (nil: refused, failed, or no provider).
    func obtain(environment: String, name: String, options: ACMEOptions) async -> Entry? {
        if let hit = cached(name) { return hit }
        guard let p = provider.withLock({ $0 }) else { return nil }
        guard let entry = await p(environment, name, options) else { return nil }
        store(name, entry)
        return entry
    }

    /// Reads a PEM pair; nil when either does not parse.
    static func load(cert: String, key: String) -> Entry? {
        guard let chain = try? NIOSSLCertificate.fromPEMFile(cert), let leaf = chain.first,
              let k = try? NIOSSLPrivateKey(file: key, format: .pem) else { return nil }
        return Entry(chain: chain, key: k, notAfter: Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter)))
    }
}
