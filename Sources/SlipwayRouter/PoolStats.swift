import Synchronization

/// Counters for one pool. Updated on the request path with relaxed atomics, never a lock.
public final class PoolStats: Sendable {
    let requests = Atomic<Int>(0)
    let inflight = Atomic<Int>(0)
    let r2xx = Atomic<Int>(0)
    let r3xx = Atomic<Int>(0)
    let r4xx = Atomic<Int>(0)
    let r5xx = Atomic<Int>(0)
    let upstreamErrors = Atomic<Int>(0)

    init() {}

    func begin() {
        requests.add(1, ordering: .relaxed)
        inflight.add(1, ordering: .relaxed)
    }

    func end(status: Int?) {
        inflight.subtract(1, ordering: .relaxed)
        guard let status else { return }
        switch status {
        case 200..<300: r2xx.add(1, ordering: .relaxed)
        case 300..<400: r3xx.add(1, ordering: .relaxed)
        case 400..<500: r4xx.add(1, ordering: .relaxed)
        default: r5xx.add(1, ordering: .relaxed)
        }
    }

    func upstreamError() { upstreamErrors.add(1, ordering: .relaxed) }

    var snapshot: PoolStatsSnapshot {
        PoolStatsSnapshot(
            requests: requests.load(ordering: .relaxed), inflight: inflight.load(ordering: .relaxed),
            responses2xx: r2xx.load(ordering: .relaxed), responses3xx: r3xx.load(ordering: .relaxed),
            responses4xx: r4xx.load(ordering: .relaxed), responses5xx: r5xx.load(ordering: .relaxed),
            upstreamErrors: upstreamErrors.load(ordering: .relaxed))
    }
}

/// Stats outlive table swaps, so a drained pool's in-flight count stays observable.
public final class StatsRegistry: Sendable {
    private let pools = Mutex<[String: [String: PoolStats]]>([:])

    public init() {}

    func stats(listener: String, pool: String) -> PoolStats {
        pools.withLock { all in
            if let s = all[listener]?[pool] { return s }
            let s = PoolStats()
            all[listener, default: [:]][pool] = s
            return s
        }
    }

    public func report() -> RouterStatsReport {
        pools.withLock { all in all.mapValues { $0.mapValues(\.snapshot) } }
    }
}
