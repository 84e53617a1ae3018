import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOHTTP2
import NIOTLS
import SlipwayCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The router's listeners: binds one server socket per address in the table (environments may share one,
/// told apart by host and path) and swaps tables atomically.
public actor ProxyServer {
    struct Bound {
        let address: ListenAddress
        let channel: any Channel
        /// Our own duplicate of the listening descriptor, kept to hand over on a restart.
        let descriptor: Int32
        /// Its connections start with a TLS handshake.
        let tls: Bool
    }

    let group: any EventLoopGroup
    let state: RouteState
    let pools: UpstreamPools
    let logger: Logger
    var bound: [ListenAddress: Bound] = [:]
    /// The HTTPS addresses' certificates, by address.
    var tlsEndpoints: [ListenAddress: TLSEndpoint] = [:]
    /// Listening sockets passed on by the router process this one replaces, by address.
    var inherited: [ListenAddress: Int32]
    public private(set) var table: RouteTable
    /// One `apply` at a time (see there).
    let applying = AsyncGate()

    public init(group: any EventLoopGroup, registry: StatsRegistry = StatsRegistry(), inherited: [ListenAddress: Int32] = [:], logger: Logger) {
        self.group = group
        self.table = RouteTable()
        self.state = RouteState(table: RouteTable(), registry: registry)
        self.pools = UpstreamPools()
        self.inherited = inherited
        self.logger = logger
    }

    public var registry: StatsRegistry { state.registry }

    /// The ACME challenges this router answers.
    nonisolated var challenges: ChallengeBoard { state.challenges }
    /// Certificates obtained on demand.
    nonisolated var onDemand: OnDemandCertificates { state.onDemand }

    /// Requests a paused listener holds right now, per listener.
    public nonisolated func held() -> [String: Int] { state.held() }

    /// Binds new listeners first (failing without changing anything if one cannot bind), then swaps the
    /// table in one step, then closes listeners that are no longer wanted. Tables are applied one at a
    /// time, in the order they arrive: this actor's state may change at every `await`, so a second table
    /// waits until the first is done. An older table never replaces a newer one; `persist` (the state file)
    /// runs only for a table that became current, inside the same turn. Returns whether `next` was applied.
    @discardableResult
    public func apply(_ next: RouteTable, persist: (@Sendable (RouteTable) throws -> Void)? = nil) async throws(SlipwayError) -> Bool {
        await applying.acquire()
        defer { applying.release() }
        // Tables computed concurrently may arrive out of order: an older one never replaces a newer one.
        guard next.generation >= table.generation else {
            logger.info("ignored a stale route table", metadata: ["router.generation": "\(next.generation)", "router.current": "\(table.generation)"])
            return false
        }
        try await swap(to: next)
        do { try persist?(next) } catch { throw SlipwayError(.internal, "cannot save the route table", cause: error) }
        return true
    }

    private func swap(to next: RouteTable) async throws(SlipwayError) {
        // An ACME certificate not issued yet serves a placeholder meanwhile: the address listens, and answers challenges.
        for l in next.listeners { if let tls = l.tls, tls.acme != nil { ACMEPlaceholder.ensure(tls, hosts: l.route?.hosts ?? [], logger: logger) } }
        // Certificates first (a file that does not load refuses the table, changing nothing), then sockets.
        var certificates: [ListenAddress: (endpoint: TLSEndpoint, loaded: [TLSEndpoint.Loaded])] = [:]
        for (address, sources) in Self.tlsSources(next) {
            let endpoint = tlsEndpoints[address] ?? TLSEndpoint(address: address, challenges: state.challenges, onDemand: state.onDemand)
            certificates[address] = (endpoint, try endpoint.prepare(sources))
        }
        var opened: [ListenAddress: Bound] = [:]
        let wanted = next.listeners.flatMap { l in [(l.listen, l.name, "router.listen")] + (l.tls.map { [($0.listen, l.name, "router.listen_tls")] } ?? []) }
        for (address, _, _) in wanted {
            // An address that changes between plain HTTP and HTTPS is bound again (its connections so far end).
            if let b = bound[address], b.tls != (certificates[address] != nil) {
                logger.warning("listening anew: the address changes between plain HTTP and HTTPS", metadata: ["router.address": "\(address)"])
                await close(b)
                bound[address] = nil
            }
        }
        for (address, name, key) in wanted where bound[address] == nil && opened[address] == nil {
            do {
                opened[address] = try await bind(address, tls: certificates[address]?.endpoint)
            } catch {
                for (_, o) in opened { await close(o) }
                throw SlipwayError(.failed, "the router cannot listen on \(address) for '\(name)'; free the address or change \(key)", cause: error)
            }
        }
        for (address, c) in certificates {
            do { try c.endpoint.install(c.loaded) } catch {
                for (_, o) in opened { await close(o) }
                throw error
            }
            tlsEndpoints[address] = c.endpoint
        }
        for address in tlsEndpoints.keys where certificates[address] == nil { tlsEndpoints[address] = nil }
        table = next
        state.replace(next)
        var keep = Set<Backend>()
        for l in next.listeners { for p in l.pools { keep.formUnion(p.backends) } }
        pools.pruneIdle(keeping: keep)
        for (address, o) in opened {
            bound[address] = o
            // Accepting starts only now that the table naming this address is the current one: a
            // connection waiting in an inherited socket's queue must not meet an empty table (503).
            await accept(o, true)
            let names = next.listeners.filter { $0.listen == address }.map(\.name).joined(separator: ",")
            logger.info("listening", metadata: ["router.listener": "\(names)", "router.address": "\(address)"])
        }
        let addresses = Set(wanted.map(\.0))
        for (address, b) in bound where !addresses.contains(address) {
            await close(b)
            bound[address] = nil
        }
        // Sockets the previous process passed on that no listener wants any more.
        for (_, fd) in inherited { Glibc.close(fd) }
        inherited.removeAll()
    }

    /// The address each listener is bound to (useful with port 0).
    public func boundAddresses() -> [String: ListenAddress] {
        var out: [String: ListenAddress] = [:]
        for l in table.listeners {
            guard let b = bound[l.listen] else { continue }
            out[l.name] = ListenAddress(host: b.address.host, port: b.channel.localAddress?.port ?? b.address.port)
        }
        return out
    }

    public func closeAll() async {
        for (_, b) in bound { await close(b) }
        bound.removeAll()
    }

    /// Starts or stops accepting on a listener (autoRead of its channel); the socket stays open either way.
    func accept(_ b: Bound, _ on: Bool) async {
        try? await b.channel.setOption(ChannelOptions.autoRead, value: on).get()
    }

    func close(_ b: Bound) async {
        try? await b.channel.close()
        Glibc.close(b.descriptor)
    }

    /// After the handshake: HTTP/2 when the client chose `h2` (each stream a `ClientConnection` behind an
    /// `HTTP2Bridge`), HTTP/1.1 otherwise.
    nonisolated static func protocolNegotiation(address: ListenAddress, state: RouteState, pools: UpstreamPools) -> ApplicationProtocolNegotiationHandler {
        ApplicationProtocolNegotiationHandler { result, channel in
            channel.eventLoop.makeCompletedFuture {
                if case .negotiated(TLSEndpoint.acmeALPN) = result {
                    // A CA validating a TLS-ALPN-01 challenge: the handshake was the answer (RFC 8737 §3).
                    channel.close(promise: nil)
                } else if case .negotiated("h2") = result {
                    let clientIP = ClientConnection.ipBytes(channel)
                    let idleMs = state.snapshot.addresses[address]?.first?.timeouts.idleMs ?? ListenerTable.Timeouts().idleMs
                    try HTTP2ConnectionEntry.configure(channel, idleTimeout: .milliseconds(idleMs), pool: pools.pool(for: channel.eventLoop)) { stream in
                        stream.eventLoop.makeCompletedFuture {
                            try stream.pipeline.syncOperations.addHandlers(
                                HTTP2Bridge(), ClientConnection(address: address, state: state, pool: pools.pool(for: stream.eventLoop), streamOf: clientIP))
                        }
                    }
                } else {
                    try channel.pipeline.syncOperations.addHandler(ClientConnection(address: address, state: state, pool: pools.pool(for: channel.eventLoop)))
                }
            }
        }
    }

    /// Each HTTPS address's certificate sources, in the table's order.
    static func tlsSources(_ table: RouteTable) -> [ListenAddress: [TLSEndpoint.Source]] {
        var out: [ListenAddress: [TLSEndpoint.Source]] = [:]
        for l in table.listeners {
            guard let tls = l.tls else { continue }
            out[tls.listen, default: []].append(.init(listener: l.name, certFile: tls.certFile, keyFile: tls.keyFile, hosts: l.route?.hosts ?? [],
                                                      http2: tls.http2, acme: tls.acme))
        }
        return out
    }

    /// Reads certificate files again where they changed (the periodic look of `slipway router`).
    public func reloadCertificates() {
        for (address, endpoint) in tlsEndpoints {
            let (reloaded, failed) = endpoint.reloadIfChanged()
            for file in reloaded { logger.info("reloaded the certificate", metadata: ["router.address": "\(address)", "router.cert": "\(file)"]) }
            for error in failed {
                logger.error("the changed certificate files do not load; the ones before keep serving", metadata: ["router.address": "\(address)", "error": "\(error)"])
            }
        }
    }

    /// Every HTTPS address's certificates as loaded (`GET /v1/certificates`).
    public func certificates() -> [CertificateInfo] {
        tlsEndpoints.sorted { $0.key.description < $1.key.description }.flatMap { $0.value.certificates() }
    }

    func bind(_ address: ListenAddress, tls: TLSEndpoint? = nil) async throws -> Bound {
        let fd = try inherited.removeValue(forKey: address) ?? ListenSocket.open(address)
        let keep = ListenSocket.duplicate(fd)
        let state = self.state
        let pools = self.pools
        do {
            let channel = try await ServerBootstrap(group: group)
                // Not accepting until `apply` has published the table (see there).
                .serverChannelOption(.autoRead, value: false)
                .serverChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AcceptCounter(state: state)) }
                }
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        guard let tls else {
                            try channel.pipeline.syncOperations.addHandler(ClientConnection(address: address, state: state, pool: pools.pool(for: channel.eventLoop)))
                            return
                        }
                        // The certificates as of this accept: a reload changes the next handshakes, not this one.
                        guard let context = tls.context else { throw SlipwayError(.failed, "no certificate for \(address)") }
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                        try channel.pipeline.syncOperations.addHandler(Self.protocolNegotiation(address: address, state: state, pools: pools))
                    }
                }
                .withBoundSocket(fd).get()
            return Bound(address: address, channel: channel, descriptor: keep, tls: tls != nil)
        } catch {
            Glibc.close(keep)
            throw error
        }
    }
}

/// Counts each accepted connection until it closes (see `RouteState.openConnections`).
final class AcceptCounter: ChannelInboundHandler {
    typealias InboundIn = any Channel
    let state: RouteState

    init(state: RouteState) { self.state = state }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        let state = self.state
        state.openConnections.add(1, ordering: .relaxed)
        child.closeFuture.whenComplete { _ in state.openConnections.subtract(1, ordering: .relaxed) }
        context.fireChannelRead(data)
    }
}
