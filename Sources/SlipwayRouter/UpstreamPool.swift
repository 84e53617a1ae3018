import NIOCore
import NIOPosix
import SlipwayCore
import Synchronization

/// Idle keep-alive connections to instances, one pool per event loop: no lock on the request path,
/// and a connection is only ever used on the loop that owns it.
final class UpstreamPool {
    let eventLoop: any EventLoop
    let maxIdlePerBackend: Int
    /// This loop's number (0, 1, …): stats are kept per loop so the request path never shares a lock.
    let index: Int
    /// Per backend, a list object: taking and returning connections mutates it in place, with one lookup.
    final class IdleList {
        var connections: [UpstreamConnection] = []
    }

    private var idle: [Backend: IdleList] = [:]
    /// The list last looked up: most requests go to the backend the previous one went to, and comparing
    /// two backends is cheaper than hashing one.
    private var recent: (backend: Backend, list: IdleList)?
    /// The client connections on this loop (for draining on a restart).
    private var clients: [ObjectIdentifier: ClientConnection] = [:]
    /// The HTTP/2 connections on this loop (their streams are in `clients`).
    private var http2: [ObjectIdentifier: HTTP2ConnectionEntry] = [:]
    /// Channels written to during this turn of the loop, flushed together when it ends.
    private var toFlush: [ChannelHandlerContext] = []
    /// The batch being flushed (kept to reuse its storage).
    private var flushing: [ChannelHandlerContext] = []
    /// The number of the batch flushed next (see `flushSoon`).
    private var batch: UInt64 = 1

    init(eventLoop: any EventLoop, index: Int, maxIdlePerBackend: Int = 256) {
        self.eventLoop = eventLoop
        self.index = index
        self.maxIdlePerBackend = maxIdlePerBackend
    }

    /// Flushes `context` once the loop has handled every event of this turn. Requests read from many
    /// clients then reach the instance in one burst (and responses the clients), so a peer wakes once
    /// for many messages instead of once for each. `joined` is the caller's record of the batch it last
    /// joined, so a connection is flushed once per batch however often it asks (a response and the end
    /// of its exchange both ask for the client's flush).
    func flushSoon(_ context: ChannelHandlerContext, joined: inout UInt64) {
        guard joined != batch else { return }
        joined = batch
        if toFlush.isEmpty {
            eventLoop.assumeIsolated().execute { [self] in
                swap(&toFlush, &flushing)
                batch &+= 1
                for c in flushing { c.flush() }
                flushing.removeAll(keepingCapacity: true)
            }
        }
        toFlush.append(context)
    }

    func register(_ c: ClientConnection) { clients[ObjectIdentifier(c)] = c }
    func unregister(_ c: ClientConnection) { clients[ObjectIdentifier(c)] = nil }
    func register(_ c: HTTP2ConnectionEntry) { http2[ObjectIdentifier(c)] = c }
    func unregister(_ c: HTTP2ConnectionEntry) { http2[ObjectIdentifier(c)] = nil }
    func drainClients() {
        for c in clients.values { c.drain() }
        for c in http2.values { c.quiesce() }
    }
    func closeClients() {
        for c in clients.values { c.context?.close(promise: nil) }
        for c in http2.values { c.close() }
    }

    /// An idle connection to `backend`, if there is one that is still open.
    func takeIdle(_ backend: Backend) -> UpstreamConnection? {
        guard let list = idleList(backend, creating: false) else { return nil }
        while let c = list.connections.popLast() {
            c.inPool = false
            if c.isActive { return c }
        }
        return nil
    }

    /// A new connection to `backend`.
    func connect(_ backend: Backend, timeout: TimeAmount, stats: PoolStats, _ completion: @escaping (Result<UpstreamConnection, any Error>) -> Void) {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnection(backend: backend))
                }
            }
            .connect(host: backend.host, port: backend.port)
            .assumeIsolated().whenComplete { [weak self] result in
                switch result {
                case .success(let channel):
                    do {
                        let c = try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)
                        c.pool = self
                        c.stats = stats
                        stats.connections.add(1, ordering: .relaxed)
                        completion(.success(c))
                    } catch {
                        channel.close(promise: nil)
                        completion(.failure(error))
                    }
                case .failure(let error):
                    completion(.failure(error))
                }
            }
    }

    /// Takes back a connection whose exchange finished cleanly; closes it when the pool is full.
    func release(_ c: UpstreamConnection) {
        c.owner = nil
        guard c.isActive else { return }
        // The last bytes may have made the client unwritable, which paused this connection's reading:
        // the next owner must find it reading.
        c.setAutoRead(true)
        let list = idleList(c.backend, creating: true)!
        guard list.connections.count < maxIdlePerBackend else {
            c.close()
            return
        }
        c.inPool = true
        list.connections.append(c)
    }

    private func idleList(_ backend: Backend, creating: Bool) -> IdleList? {
        if let recent, recent.backend == backend { return recent.list }
        var list = idle[backend]
        if list == nil && creating {
            list = IdleList()
            idle[backend] = list
        }
        if let list { recent = (backend, list) }
        return list
    }

    func remove(_ c: UpstreamConnection) {
        idle[c.backend]?.connections.removeAll { $0 === c }
    }

    /// Closes idle connections to backends that are no longer in any pool.
    func closeIdle(except keep: Set<Backend>) {
        for (backend, list) in idle where !keep.contains(backend) {
            idle[backend] = nil
            if recent?.backend == backend { recent = nil }
            for c in list.connections {
                c.inPool = false
                c.close()
            }
        }
    }
}

/// Finds the pool of the current event loop.
final class UpstreamPools: Sendable {
    private let pools = Mutex<[ObjectIdentifier: NIOLoopBound<UpstreamPool>]>([:])

    init() {}

    func pool(for eventLoop: any EventLoop) -> UpstreamPool {
        pools.withLock { all in
            let key = ObjectIdentifier(eventLoop)
            if let p = all[key] { return p.value }
            let p = UpstreamPool(eventLoop: eventLoop, index: all.count)
            all[key] = NIOLoopBound(p, eventLoop: eventLoop)
            return p
        }
    }

    /// Runs `body` on each event loop with that loop's pool.
    func forEachLoop(_ body: @escaping @Sendable (UpstreamPool) -> Void) {
        let loops = pools.withLock { Array($0.values) }
        for bound in loops { bound.eventLoop.execute { body(bound.value) } }
    }

    /// After a table swap: each loop drops idle connections to backends that left the table.
    func pruneIdle(keeping backends: Set<Backend>) {
        forEachLoop { $0.closeIdle(except: backends) }
    }
}
