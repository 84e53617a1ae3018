import Histogram
import NIOCore
import SlipwayCore
import Synchronization

/// Live numbers for one pool. Totals are relaxed atomics; the sliding windows are sharded per event
/// loop, so a request only ever takes its own loop's (uncontended) shard, and a reader merges them.
public final class PoolStats: Sendable {
    final class Shard: Sendable {
        let windows = Mutex(TrafficWindows())
    }

    static let shardCount = 8
    let requests = Atomic<Int>(0)
    let inflight = Atomic<Int>(0)
    let r2xx = Atomic<Int>(0)
    let r3xx = Atomic<Int>(0)
    let r4xx = Atomic<Int>(0)
    let r5xx = Atomic<Int>(0)
    let upstreamErrors = Atomic<Int>(0)
    /// Open connections from the router to this pool's instances.
    let connections = Atomic<Int>(0)
    /// Reading from an instance paused for a slow client (back-pressure at work, not an error).
    let backpressurePauses = Atomic<Int>(0)
    let shards: [Shard] = (0..<PoolStats.shardCount).map { _ in Shard() }

    init() {}

    func begin() {
        requests.add(1, ordering: .relaxed)
        inflight.add(1, ordering: .relaxed)
    }

    /// A request ended, with the status the client got (nil: none, or not all of it).
    func end(status: Int?, loop: Int, startedAt: UInt64, now: UInt64 = NIODeadline.now().uptimeNanoseconds) {
        inflight.subtract(1, ordering: .relaxed)
        switch status {
        case .none: break
        case .some(200..<300): r2xx.add(1, ordering: .relaxed)
        case .some(300..<400): r3xx.add(1, ordering: .relaxed)
        case .some(400..<500): r4xx.add(1, ordering: .relaxed)
        case .some(100..<200): break
        case .some: r5xx.add(1, ordering: .relaxed)
        }
        let micros = now > startedAt ? (now - startedAt) / 1000 : 0
        shards[loop % Self.shardCount].windows.withLock { $0.record(status: status, micros: micros, now: now) }
    }

    func upstreamError(loop: Int = 0, now: UInt64 = NIODeadline.now().uptimeNanoseconds) {
        upstreamErrors.add(1, ordering: .relaxed)
        shards[loop % Self.shardCount].windows.withLock { $0.upstreamError(now: now) }
    }

    func snapshot(now: UInt64 = NIODeadline.now().uptimeNanoseconds) -> PoolStatsSnapshot {
        var merged: [String: TrafficWindows.Window] = [:]
        for shard in shards {
            for w in shard.windows.withLock({ $0.windows(now: now) }) {
                merged[w.name, default: TrafficWindows.Window(name: w.name)].add(w.counts, w.latency)
            }
        }
        return PoolStatsSnapshot(
            requests: requests.load(ordering: .relaxed), inflight: inflight.load(ordering: .relaxed),
            responses2xx: r2xx.load(ordering: .relaxed), responses3xx: r3xx.load(ordering: .relaxed),
            responses4xx: r4xx.load(ordering: .relaxed), responses5xx: r5xx.load(ordering: .relaxed),
            upstreamErrors: upstreamErrors.load(ordering: .relaxed), connections: connections.load(ordering: .relaxed),
            backpressurePauses: backpressurePauses.load(ordering: .relaxed),
            windows: merged.mapValues { WindowStats($0.counts, $0.latency) })
    }
}

extension WindowStats {
    init(_ c: TrafficWindows.WindowCounts, _ h: Histogram<UInt32>?) {
        func ms(_ percentile: Double) -> Double {
            guard let h, h.totalCount > 0 else { return 0 }
            return Double(h.valueAtPercentile(percentile)) / 1000
        }
        self.init(requests: c.requests, responses2xx: c.r2xx, responses3xx: c.r3xx, responses4xx: c.r4xx, responses5xx: c.r5xx,
                  failed: c.failed, upstreamErrors: c.upstreamErrors,
                  p50Ms: ms(50), p90Ms: ms(90), p99Ms: ms(99), maxMs: h.map { Double($0.max) / 1000 } ?? 0)
        p95Ms = ms(95)
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
        let all = pools.withLock { $0 }
        return all.mapValues { $0.mapValues { $0.snapshot() } }
    }
}
