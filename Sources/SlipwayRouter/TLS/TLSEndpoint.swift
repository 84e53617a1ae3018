import Foundation
import NIOCore
import NIOSSL
import SlipwayACME
import SlipwayCore
import Synchronization

/// The TLS side of one HTTPS address: the certificates of the environments on it, read from their PEM files,
/// and the context each new connection's handshake starts from. `update` and `reloadIfChanged` swap the
/// context atomically: handshakes from then on get the new certificates; connections already up keep theirs.
final class TLSEndpoint: Sendable {
    /// One environment's certificate on this address.
    struct Source: Equatable, Sendable {
        /// The environment (listener) whose certificate it is.
        var listener: String
        var certFile: String
        var keyFile: String
        /// Its route's hosts (empty: every host).
        var hosts: [String]
        /// Offer `h2` (ALPN).
        var http2 = false
        /// The router obtains this certificate by ACME: handshakes offering `acme-tls/1` may be TLS-ALPN-01 challenges.
        var acme: ACMEOptions?
    }

    struct Loaded: Sendable {
        let source: Source
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        /// What the files looked like when read (size and modification time of both).
        let signature: [Int64]
        let loadedAt: Date
        /// The leaf certificate as `slipway certs` shows it, read once when loaded.
        let info: CertificateInfo
    }

    private struct State: Sendable {
        var loaded: [Loaded] = []
        var context: NIOSSLContext?
        /// Per certificate file: the files' signature that did not load, and why (not tried again until they change).
        var failed: [String: (signature: [Int64], error: String)] = [:]
    }

    let address: ListenAddress
    /// TLS-ALPN-01 answers for names under validation (the router's ACME side publishes them).
    let challenges: ChallengeBoard?
    /// Certificates for names on demand (`router.acme.on_demand`).
    let onDemand: OnDemandCertificates?
    private let state = Mutex(State())

    init(address: ListenAddress, challenges: ChallengeBoard? = nil, onDemand: OnDemandCertificates? = nil) {
        self.address = address
        self.challenges = challenges
        self.onDemand = onDemand
    }

    /// The context a connection accepted now handshakes with.
    var context: NIOSSLContext? { state.withLock { $0.context } }

    /// Reads what `sources` (the table's certificates for this address) need, without installing it: files
    /// already loaded and unchanged are not read again. Throws when a file cannot be read or parsed, or a key
    /// does not belong to its certificate.
    func prepare(_ sources: [Source]) throws(SlipwayError) -> [Loaded] {
        let current = state.withLock { $0.loaded }
        var next: [Loaded] = []
        for source in sources {
            if let same = current.first(where: { $0.source == source }), same.signature == Self.signature(source) {
                next.append(same)
            } else {
                next.append(try load(source))
            }
        }
        return next
    }

    /// Reads the files again where they changed: the certificates swapped in, and the errors of pairs that do
    /// not load (a certificate renewed before its key, say), which keep the old one serving and are not tried
    /// again until their files change once more.
    func reloadIfChanged() -> (reloaded: [String], failed: [String]) {
        let (current, failed) = state.withLock { ($0.loaded, $0.failed) }
        var next: [Loaded] = []
        var reloaded: [String] = [], errors: [String] = []
        var stillFailed = failed
        for old in current {
            let now = Self.signature(old.source)
            guard now != old.signature, failed[old.source.certFile]?.signature != now else {
                next.append(old)
                continue
            }
            do {
                next.append(try load(old.source))
                reloaded.append(old.source.certFile)
                stillFailed[old.source.certFile] = nil
            } catch {
                next.append(old)
                stillFailed[old.source.certFile] = (now, error.description)
                errors.append(error.description)
            }
        }
        if !reloaded.isEmpty {
            do { try install(next) } catch {
                errors.append(error.description)
                reloaded = []
            }
        }
        state.withLock { $0.failed = stillFailed }
        return (reloaded, errors)
    }

    /// What each environment's certificate on this address is, as loaded, with a reload's error.
    func certificates() -> [CertificateInfo] {
        let (loaded, failed) = state.withLock { ($0.loaded, $0.failed) }
        return loaded.map { l in
            var info = l.info
            info.error = failed[l.source.certFile]?.error
            return info
        }
    }

    /// The leaf's subject, issuer, names and validity (`CertificateFacts`).
    func describe(_ source: Source, leaf: NIOSSLCertificate, loadedAt: Date) -> CertificateInfo {
        var info = CertificateInfo(environment: source.listener, address: "\(address)", hosts: source.hosts, certFile: source.certFile, loadedAt: loadedAt)
        if let der = try? leaf.toDERBytes(), let facts = CertificateFacts(der: der) {
            info.subject = facts.subject
            info.issuer = facts.issuer
            info.notBefore = facts.notBefore
            info.notAfter = facts.notAfter
            info.names = facts.names
        }
        return info
    }

    func install(_ loaded: [Loaded]) throws(SlipwayError) {
        let context = try Self.context(for: loaded, challenges: challenges, onDemand: onDemand)
        state.withLock {
            $0.loaded = loaded
            $0.context = context
        }
    }

    /// The ALPN name of TLS-ALPN-01 (RFC 8737): a handshake offering only it is a CA validating a name.
    static let acmeALPN = "acme-tls/1"

    /// TLS 1.2 and 1.3, ALPN `http/1.1` (and `h2` first with `router.http2`); with several certificates SNI picks one
    /// per handshake; with ACME certificates, a handshake for a name under TLS-ALPN-01 validation gets its challenge certificate.
    static func context(for loaded: [Loaded], challenges: ChallengeBoard? = nil, onDemand: OnDemandCertificates? = nil) throws(SlipwayError) -> NIOSSLContext? {
        guard let first = loaded.first else { return nil }
        var config = TLSConfiguration.makeServerConfiguration(certificateChain: first.chain.map { .certificate($0) }, privateKey: .privateKey(first.key))
        config.minimumTLSVersion = .tlsv12
        config.maximumTLSVersion = .tlsv13
        // `h2` when an environment on the address asks for it (`router.http2`).
        let acme = loaded.contains { $0.source.acme != nil }
        // `acme-tls/1` last: only a client offering nothing else (a CA validating) gets it.
        config.applicationProtocols = (loaded.contains { $0.source.http2 } ? ["h2", "http/1.1"] : ["http/1.1"]) + (acme ? [acmeALPN] : [])
        if loaded.count > 1 || (acme && challenges != nil) {
            let selector = CertificatePick.selector(loaded.map(\.source.hosts))
            let board = acme ? challenges : nil
            let names = loaded.map { Set($0.info.names.map { $0.lowercased() }) }
            let onDemand = loaded.contains { $0.source.acme?.onDemand != nil } ? onDemand : nil
            config.sslContextCallback = { values, promise in
                var change = NIOSSLContextConfigurationOverride()
                if let answer = board?.tlsALPN01(name: values.serverHostname) {
                    change.certificateChain = answer.chain.map { .certificate($0) }
                    change.privateKey = .privateKey(answer.key)
                } else if let onDemand, let sni = values.serverHostname?.lowercased(), let i = selector.select(host: sni, target: "/")?.index,
                          let options = loaded[i].source.acme, options.onDemand != nil, !names[i].contains(sni) {
                    // A name the route takes that no certificate covers: from memory, or obtained while the handshake waits.
                    if let hit = onDemand.cached(sni) {
                        change.certificateChain = hit.chain.map { .certificate($0) }
                        change.privateKey = .privateKey(hit.key)
                        promise.succeed(change)
                        return
                    }
                    let environment = loaded[i].source.listener, fallback = loaded[i]
                    Task {
                        var change = NIOSSLContextConfigurationOverride()
                        if let got = await onDemand.obtain(environment: environment, name: sni, options: options) {
                            change.certificateChain = got.chain.map { .certificate($0) }
                            change.privateKey = .privateKey(got.key)
                        } else {
                            change.certificateChain = fallback.chain.map { .certificate($0) }
                            change.privateKey = .privateKey(fallback.key)
                        }
                        promise.succeed(change)
                    }
                    return
                } else if loaded.count > 1 {
                    let chosen = loaded[CertificatePick.index(sni: values.serverHostname, in: selector, count: loaded.count) ?? 0]
                    change.certificateChain = chosen.chain.map { .certificate($0) }
                    change.privateKey = .privateKey(chosen.key)
                }
                promise.succeed(change)
            }
        }
        do { return try NIOSSLContext(configuration: config) } catch {
            throw SlipwayError(.failed, "cannot set up TLS with \(first.source.certFile) and \(first.source.keyFile)", cause: error)
        }
    }

    func load(_ source: Source) throws(SlipwayError) -> Loaded {
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
        let now = Date()
        return Loaded(source: source, chain: chain, key: key, signature: signature, loadedAt: now, info: describe(source, leaf: chain[0], loadedAt: now))
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
