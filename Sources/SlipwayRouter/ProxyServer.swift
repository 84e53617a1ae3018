import Logging
import NIOCore
import NIOPosix
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
    }

    let group: any EventLoopGroup
    let state: RouteState
    let pools: UpstreamPools
    let logger: Logger
    var bound: [ListenAddress: Bound] = [:]
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
        var opened: [ListenAddress: Bound] = [:]
        for listener in next.listeners where bound[listener.listen] == nil && opened[listener.listen] == nil {
            do {
                opened[listener.listen] = try await bind(listener.listen)
            } catch {
                for (_, o) in opened { await close(o) }
                throw SlipwayError(.failed, "the router cannot listen on \(listener.listen) for '\(listener.name)'; free the address or change router.listen", cause: error)
            }
        }
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
        let wanted = Set(next.listeners.map(\.listen))
        for (address, b) in bound where !wanted.contains(address) {
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

    func bind(_ address: ListenAddress) async throws -> Bound {
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
                        try channel.pipeline.syncOperations.addHandler(ClientConnection(address: address, state: state, pool: pools.pool(for: channel.eventLoop)))
                    }
                }
                .withBoundSocket(fd).get()
            return Bound(address: address, channel: channel, descriptor: keep)
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
