import Foundation
import NIOCore
import NIOSSL
import SlipwayCore
import Synchronization

/// The TLS side of one HTTPS address: the certificates of the environments on it, read from their PEM files,
/// and the context each new connection's handshake starts from. `update` and `reloadIfChanged` swap the
/// context atomically: handshakes from then on get the new certificates; connections already up keep theirs.
final class TLSEndpoint: Sendable {
    /// One environment's certificate on this address.
    struct Source: Equatable, Sendable {
        var certFile: String
        var keyFile: String
        /// Its route's hosts (empty: every host).
        var hosts: [String]
    }

    struct Loaded: Sendable {
        let source: Source
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        /// What the files looked like when read (size and modification time of both).
        let signature: [Int64]
    }

    private struct State: Sendable {
        var loaded: [Loaded] = []
        var context: NIOSSLContext?
    }

    let address: ListenAddress
    private let state = Mutex(State())

    init(address: ListenAddress) { self.address = address }

    /// The context a connection accepted now handshakes with.
    var context: NIOSSLContext? { state.withLock { $0.context } }

    /// The files' current certificates (nil where none is loaded), for `certs` and the tests.
    var certificates: [Loaded] { state.withLock { $0.loaded } }

    /// Takes the address's certificates as the table names them; files already loaded and unchanged are
    /// not read again. Throws (changing nothing) when a file cannot be read or parsed, or a key does not
    /// belong to its certificate.
    func update(_ sources: [Source]) throws(SlipwayError) {
        try install(try prepare(sources))
    }

    /// Reads what `sources` need (what is loaded and unchanged is kept) without installing it.
    func prepare(_ sources: [Source]) throws(SlipwayError) -> [Loaded] {
        let current = state.withLock { $0.loaded }
        var next: [Loaded] = []
        for source in sources {
            if let same = current.first(where: { $0.source == source }), same.signature == Self.signature(source) {
                next.append(same)
            } else {
                next.append(try Self.load(source))
            }
        }
        return next
    }

    /// Reads the files again where they changed; whether anything was swapped. A pair that does not load
    /// (a certificate renewed before its key, say) keeps the old one serving until the next look.
    func reloadIfChanged() throws(SlipwayError) -> Bool {
        let current = state.withLock { $0.loaded }
        guard current.contains(where: { $0.signature != Self.signature($0.source) }) else { return false }
        var next: [Loaded] = []
        for old in current {
            next.append(old.signature == Self.signature(old.source) ? old : try Self.load(old.source))
        }
        try install(next)
        return true
    }

    func install(_ loaded: [Loaded]) throws(SlipwayError) {
        let context = try Self.context(for: loaded)
        state.withLock {
            $0.loaded = loaded
            $0.context = context
        }
    }

    /// TLS 1.2 and 1.3, ALPN `http/1.1`; with several certificates SNI picks one per handshake.
    static func context(for loaded: [Loaded]) throws(SlipwayError) -> NIOSSLContext? {
        guard let first = loaded.first else { return nil }
        var config = TLSConfiguration.makeServerConfiguration(certificateChain: first.chain.map { .certificate($0) }, privateKey: .privateKey(first.key))
        config.minimumTLSVersion = .tlsv12
        config.maximumTLSVersion = .tlsv13
        config.applicationProtocols = ["http/1.1"]
        if loaded.count > 1 {
            let hosts = loaded.map(\.source.hosts)
            config.sslContextCallback = { values, promise in
                let chosen = loaded[CertificatePick.index(sni: values.serverHostname, hosts: hosts) ?? 0]
                var change = NIOSSLContextConfigurationOverride()
                change.certificateChain = chosen.chain.map { .certificate($0) }
                change.privateKey = .privateKey(chosen.key)
                promise.succeed(change)
            }
        }
        do { return try NIOSSLContext(configuration: config) } catch {
            throw SlipwayError(.failed, "cannot set up TLS with \(first.source.certFile) and \(first.source.keyFile)", cause: error)
        }
    }

    static func load(_ source: Source) throws(SlipwayError) -> Loaded {
        let signature = Self.signature(source)
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do { chain = try NIOSSLCertificate.fromPEMFile(source.certFile) } catch {
            throw SlipwayError(.failed, "cannot read the certificate chain \(source.certFile); expected PEM certificates", cause: error)
        }
        guard !chain.isEmpty else { throw SlipwayError(.failed, "\(source.certFile) holds no certificate") }
        do { key = try NIOSSLPrivateKey(file: source.keyFile, format: .pem) } catch {
            throw SlipwayError(.failed, "cannot read the private key \(source.keyFile); expected a PEM private key", cause: error)
        }
        // A context of the pair alone checks that the key is the certificate's.
        do {
            _ = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
        } catch {
            throw SlipwayError(.failed, "the private key \(source.keyFile) does not belong to the certificate \(source.certFile)", cause: error)
        }
        return Loaded(source: source, chain: chain, key: key, signature: signature)
    }

    /// Size, modification time (ns) and inode of both files: a rename over the file or a write in place both change it.
    static func signature(_ source: Source) -> [Int64] {
        [source.certFile, source.keyFile].flatMap { path -> [Int64] in
            guard let a = try? FileManager.default.attributesOfItem(atPath: path) else { return [-1, -1, -1] }
            let size = (a[.size] as? NSNumber)?.int64Value ?? -1
            let modified = (a[.modificationDate] as? Date).map { Int64($0.timeIntervalSince1970 * 1_000_000_000) } ?? -1
            let inode = (a[.systemFileNumber] as? NSNumber)?.int64Value ?? -1
            return [size, modified, inode]
        }
    }
}
