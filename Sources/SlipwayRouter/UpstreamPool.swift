import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Idle keep-alive connections to instances, one pool per event loop: no lock on the request path,
/// and a connection is only ever used on the loop that owns it.
final class UpstreamPool {
    let eventLoop: any EventLoop
    let connectTimeout: TimeAmount
    let maxIdlePerBackend: Int
    private var idle: [Backend: [UpstreamHandler]] = [:]

    init(eventLoop: any EventLoop, connectTimeout: TimeAmount, maxIdlePerBackend: Int = 128) {
        self.eventLoop = eventLoop
        self.connectTimeout = connectTimeout
        self.maxIdlePerBackend = maxIdlePerBackend
    }

    /// An idle connection to `backend`, or a new one (`fresh` skips the idle list).
    func acquire(_ backend: Backend, fresh: Bool, connectTimeout: TimeAmount? = nil, _ completion: @escaping (Result<UpstreamHandler, any Error>) -> Void) {
        if !fresh, var list = idle[backend] {
            while let handler = list.popLast() {
                handler.inPool = false
                if handler.isActive {
                    idle[backend] = list
                    completion(.success(handler))
                    return
                }
            }
            idle[backend] = nil
        }
        let future = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout ?? self.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler(backend: backend))
                }
            }
            .connect(host: backend.host, port: backend.port)
        future.assumeIsolated().whenComplete { [weak self] result in
            switch result {
            case .success(let channel):
                do {
                    let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
                    handler.pool = self
                    completion(.success(handler))
                } catch {
                    channel.close(promise: nil)
                    completion(.failure(error))
                }
            case .failure(let error):
                completion(.failure(error))
            }
        }
    }

    /// Returns a connection whose exchange finished cleanly; closes it when the pool is full.
    func release(_ handler: UpstreamHandler) {
        handler.delegate = nil
        guard handler.isActive else { return }
        var list = idle[handler.backend] ?? []
        guard list.count < maxIdlePerBackend else {
            handler.close()
            return
        }
        handler.inPool = true
        list.append(handler)
        idle[handler.backend] = list
    }

    func remove(_ handler: UpstreamHandler) {
        idle[handler.backend]?.removeAll { $0 === handler }
    }

    /// Closes idle connections to backends that are no longer in any pool.
    func closeIdle(except keep: Set<Backend>) {
        for (backend, list) in idle where !keep.contains(backend) {
            idle[backend] = nil
            for h in list {
                h.inPool = false
                h.close()
            }
        }
    }
}

/// Finds the pool of the current event loop.
final class UpstreamPools: Sendable {
    private let pools = Mutex<[ObjectIdentifier: NIOLoopBound<UpstreamPool>]>([:])
    let connectTimeout: TimeAmount

    init(connectTimeout: TimeAmount) { self.connectTimeout = connectTimeout }

    func pool(for eventLoop: any EventLoop) -> UpstreamPool {
        pools.withLock { all in
            let key = ObjectIdentifier(eventLoop)
            if let p = all[key] { return p.value }
            let p = UpstreamPool(eventLoop: eventLoop, connectTimeout: connectTimeout)
            all[key] = NIOLoopBound(p, eventLoop: eventLoop)
            return p
        }
    }

    /// After a table swap: each loop drops idle connections to backends that left the table.
    func pruneIdle(keeping backends: Set<Backend>) {
        let loops = pools.withLock { Array($0.values) }
        for bound in loops {
            bound.eventLoop.execute { bound.value.closeIdle(except: backends) }
        }
    }
}
