import Synchronization

/// An immutable, compiled view of the route table. Swapped atomically as a whole: a request sees
/// either the old table or the new one, never a mix.
final class RouteSnapshot: Sendable {
    final class CompiledPool: Sendable {
        let name: String
        let weight: Int
        let backends: [Backend]
        let stats: PoolStats
        let cursor = Atomic<Int>(0)

        init(name: String, weight: Int, backends: [Backend], stats: PoolStats) {
            self.name = name
            self.weight = weight
            self.backends = backends
            self.stats = stats
        }
    }

    final class CompiledListener: Sendable {
        let name: String
        let pools: [CompiledPool]
        let totalWeight: Int

        init(_ table: ListenerTable, registry: StatsRegistry) {
            name = table.name
            pools = table.pools.filter { $0.weight > 0 && !$0.backends.isEmpty }.map {
                CompiledPool(name: $0.name, weight: $0.weight, backends: $0.backends,
                             stats: registry.stats(listener: table.name, pool: $0.name))
            }
            totalWeight = pools.reduce(0) { $0 + $1.weight }
        }

        /// Picks a pool by weight.
        func pickPool() -> CompiledPool? {
            guard totalWeight > 0 else { return nil }
            if pools.count == 1 { return pools[0] }
            var r = Int.random(in: 0..<totalWeight)
            for p in pools {
                if r < p.weight { return p }
                r -= p.weight
            }
            return pools.last
        }
    }

    let table: RouteTable
    let listeners: [String: CompiledListener]

    init(table: RouteTable, registry: StatsRegistry) {
        self.table = table
        var map: [String: CompiledListener] = [:]
        for l in table.listeners { map[l.name] = CompiledListener(l, registry: registry) }
        listeners = map
    }
}

extension RouteSnapshot.CompiledPool {
    /// Round-robin over the pool's backends, skipping the ones already tried for this request.
    func nextBackend(excluding tried: [Backend]) -> Backend? {
        let n = backends.count
        let start = cursor.add(1, ordering: .relaxed).newValue
        for i in 0..<n {
            let b = backends[(start + i) % n]
            if !tried.contains(b) { return b }
        }
        return nil
    }
}

/// Holds the current snapshot; readers take a reference under a very short lock.
final class RouteState: Sendable {
    private let current: Mutex<RouteSnapshot>
    let registry: StatsRegistry

    init(table: RouteTable, registry: StatsRegistry) {
        self.registry = registry
        current = Mutex(RouteSnapshot(table: table, registry: registry))
    }

    var snapshot: RouteSnapshot { current.withLock { $0 } }

    func replace(_ table: RouteTable) {
        let next = RouteSnapshot(table: table, registry: registry)
        current.withLock { $0 = next }
    }
}
