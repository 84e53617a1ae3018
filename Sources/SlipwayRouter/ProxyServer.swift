import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SlipwayCore

/// The router's listeners: binds one server socket per listener in the table and swaps tables atomically.
public actor ProxyServer {
    let group: any EventLoopGroup
    let state: RouteState
    let pools: UpstreamPools
    let logger: Logger
    private var bound: [String: (address: ListenAddress, channel: any Channel)] = [:]
    public private(set) var table: RouteTable

    public init(group: any EventLoopGroup, table: RouteTable = RouteTable(), registry: StatsRegistry = StatsRegistry(),
                connectTimeout: Duration = .seconds(3), logger: Logger) {
        self.group = group
        self.table = RouteTable()
        self.state = RouteState(table: RouteTable(), registry: registry)
        self.pools = UpstreamPools()
        self.logger = logger
    }

    public var registry: StatsRegistry { state.registry }

    /// Requests a paused listener holds right now, per listener.
    public nonisolated func held() -> [String: Int] { state.held() }

    /// Binds new listeners first (failing without changing anything if one cannot bind), then swaps the
    /// table in one step, then closes listeners that are no longer wanted.
    public func apply(_ next: RouteTable) async throws(SlipwayError) {
        // Tables computed concurrently may arrive out of order: an older one never replaces a newer one.
        guard next.generation >= table.generation else {
            logger.info("ignored a stale route table", metadata: ["router.generation": "\(next.generation)", "router.current": "\(table.generation)"])
            return
        }
        var opened: [String: (address: ListenAddress, channel: any Channel)] = [:]
        for listener in next.listeners {
            if let existing = bound[listener.name], existing.address == listener.listen { continue }
            if let other = bound.first(where: { $0.value.address == listener.listen }), next.listener(other.key) == nil {
                // The same address moves to a new listener name: reuse the socket's address after closing.
                try? await other.value.channel.close()
                bound[other.key] = nil
            }
            do {
                let channel = try await bind(listener)
                opened[listener.name] = (listener.listen, channel)
            } catch {
                for (_, o) in opened { try? await o.channel.close() }
                throw SlipwayError(.failed, "the router cannot listen on \(listener.listen) for '\(listener.name)'; free the address or change router.listen", cause: error)
            }
        }
        table = next
        state.replace(next)
        var keep = Set<Backend>()
        for l in next.listeners { for p in l.pools { keep.formUnion(p.backends) } }
        pools.pruneIdle(keeping: keep)
        for (name, o) in opened {
            if let old = bound[name] { try? await old.channel.close() }
            bound[name] = o
            logger.info("listening", metadata: ["router.listener": "\(name)", "router.address": "\(o.address)"])
        }
        for (name, b) in bound where next.listener(name) == nil {
            try? await b.channel.close()
            bound[name] = nil
        }
    }

    /// The address each listener is bound to (useful with port 0).
    public func boundAddresses() -> [String: ListenAddress] {
        bound.mapValues { b in
            ListenAddress(host: b.address.host, port: b.channel.localAddress?.port ?? b.address.port)
        }
    }

    public func closeAll() async {
        for (_, b) in bound { try? await b.channel.close() }
        bound.removeAll()
    }

    private func bind(_ listener: ListenerTable) async throws -> any Channel {
        let state = self.state
        let pools = self.pools
        let name = listener.name
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClientConnection(listenerName: name, state: state, pools: pools))
                }
            }
            .bind(host: listener.listen.host, port: listener.listen.port).get()
    }
}
