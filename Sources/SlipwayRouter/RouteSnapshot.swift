import NIOCore
import SlipwayCore
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
        /// Passive health: per backend, until when (uptime ns) it is skipped after refusing or timing out.
        let ejectedUntil: [Ejection]

        init(name: String, weight: Int, backends: [Backend], stats: PoolStats) {
            self.name = name
            self.weight = weight
            self.backends = backends
            self.stats = stats
            ejectedUntil = backends.map { _ in Ejection() }
        }
    }

    final class Ejection: Sendable {
        let until = Atomic<UInt64>(0)
    }

    final class CompiledListener: Sendable {
        let name: String
        let pools: [CompiledPool]
        let totalWeight: Int
        let maintenance: MaintenanceMode?
        let timeouts: ListenerTable.Timeouts
        let requestHeaders: ListenerTable.RequestHeaders
        /// The maintenance page, encoded once.
        let maintenancePage: ByteBuffer?
        /// Set only while several pools serve: how a client keeps its pool.
        let sticky: StickyRouting?
        /// Set only while several pools serve: the canary pool whose 5xx answers to a body-less GET/HEAD are retried elsewhere.
        let retryCanary: String?
        /// The sticky header's or cookie's name, lowercased (header) or as is (cookie), as bytes.
        let stickyName: [UInt8]
        /// Which requests on its address are this listener's (nil: all of them).
        let route: RouteMatch?
        /// On its plain address while it has HTTPS with `redirect_https`: the HTTPS port requests are sent to (308).
        let redirectPort: Int?
        /// On its HTTPS address with `hsts`: the `Strict-Transport-Security` line its answers get.
        let hstsLine: String?

        /// The environment's listener on its plain address, or (`secure`) on its HTTPS address.
        init(_ table: ListenerTable, registry: StatsRegistry, secure: Bool = false) {
            name = table.name
            route = table.route
            maintenance = table.maintenance
            timeouts = table.timeouts ?? .init()
            var headers = table.requestHeaders
            if secure { headers.insert(.https) }
            requestHeaders = headers
            redirectPort = !secure && table.tls?.redirect == true ? table.tls?.listen.port : nil
            hstsLine = secure ? table.tls?.hstsSeconds.map { "strict-transport-security: max-age=\($0)\r\n" } : nil
            maintenancePage = table.maintenance.map { ByteBuffer(string: $0.html) }
            pools = table.pools.filter { $0.weight > 0 && !$0.backends.isEmpty }.map {
                CompiledPool(name: $0.name, weight: $0.weight, backends: $0.backends,
                             stats: registry.stats(listener: table.name, pool: $0.name))
            }
            totalWeight = pools.reduce(0) { $0 + $1.weight }
            sticky = pools.count > 1 ? table.sticky : nil
            retryCanary = pools.count > 1 ? table.retryCanary : nil
            switch sticky {
            case .cookie(let name): stickyName = Array(name.utf8)
            case .header(let name): stickyName = Array(name.lowercased().utf8)
            case nil: stickyName = []
            }
        }

        /// Picks a pool for a client of a sticky listener: by its cookie (the pool it named, if it still
        /// serves; else by weight, and `assigned` asks for the cookie to be set) or by its header's hash
        /// (pools take consecutive buckets of 10,000 in order). Without a value: by weight.
        func pickPool(sticky value: String?) -> (pool: CompiledPool, assigned: Bool)? {
            guard let sticky, totalWeight > 0 else { return pickPool().map { ($0, false) } }
            switch sticky {
            case .cookie:
                if let value, let p = pools.first(where: { $0.name == value }) { return (p, false) }
                return pickPool().map { ($0, true) }
            case .header:
                guard let value else { return pickPool().map { ($0, false) } }
                let bucket = Int(Self.hash(value) % 10_000)
                var start = 0
                for p in pools {
                    start += p.weight * 10_000 / totalWeight
                    if bucket < start { return (p, false) }
                }
                return pools.last.map { ($0, false) }
            }
        }

        /// FNV-1a over the value's bytes: stable across router restarts and processes.
        static func hash(_ s: String) -> UInt64 {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in s.utf8 {
                h ^= UInt64(b)
                h = h &* 0x100_0000_01b3
            }
            return h
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

    /// The listeners of one listening address. One listener that claims every request is the common case
    /// and needs no look at the request; shared addresses pick by host and path (`RouteSelector`).
    final class Address: Sendable {
        let only: CompiledListener?
        let selector: RouteSelector?
        /// In the order the selector was built from (its choices are indexes into it).
        let ordered: [CompiledListener]

        init(_ listeners: [CompiledListener]) {
            ordered = listeners
            if listeners.count == 1, listeners[0].route?.isCatchAll ?? true {
                only = listeners[0]
                selector = nil
            } else {
                only = nil
                selector = RouteSelector(listeners.map { ($0.name, $0.route ?? RouteMatch()) })
            }
        }

        /// The listener for a request on a shared address (`only` needs no look at the request), and the
        /// path prefix to strip; nil: none claims it.
        func select(host: String?, target: () -> Substring) -> (listener: CompiledListener, strip: String?)? {
            if let only { return (only, nil) }
            guard let choice = selector?.select(host: host, target: target) else { return nil }
            return (ordered[choice.index], choice.strip)
        }

        /// A listener to take connection-wide settings from (the idle timeout) before a request picks one.
        var first: CompiledListener? { ordered.first }

        /// The environment's listener on this address (a request held across a table swap is re-read by it).
        func named(_ name: String) -> CompiledListener? {
            if let only { return only.name == name ? only : nil }
            return ordered.first { $0.name == name }
        }
    }

    let table: RouteTable
    let addresses: [ListenAddress: Address]

    init(table: RouteTable, registry: StatsRegistry) {
        self.table = table
        var grouped: [ListenAddress: [CompiledListener]] = [:]
        for l in table.listeners {
            grouped[l.listen, default: []].append(CompiledListener(l, registry: registry))
            if let tls = l.tls { grouped[tls.listen, default: []].append(CompiledListener(l, registry: registry, secure: true)) }
        }
        addresses = grouped.mapValues(Address.init)
    }
}

extension RouteSnapshot.CompiledPool {
    /// Round-robin over the pool's backends, skipping the ones already tried for this request and,
    /// while another one is left, the ones recently ejected.
    func nextBackend(excluding tried: [Backend]) -> Backend? {
        let n = backends.count
        let start = cursor.add(1, ordering: .relaxed).newValue
        // The clock is read only once some backend has been ejected: none ever is on the usual path.
        var now: UInt64?
        var ejected: Backend?
        for i in 0..<n {
            let index = (start + i) % n
            let b = backends[index]
            guard !tried.contains(b) else { continue }
            let until = ejectedUntil[index].until.load(ordering: .relaxed)
            if until != 0 {
                let clock = now ?? NIODeadline.now().uptimeNanoseconds
                now = clock
                if until > clock {
                    if ejected == nil { ejected = b }
                    continue
                }
            }
            return b
        }
        return ejected
    }

    /// Passive health: `backend` refused a connection or timed out; skip it for `duration`.
    func eject(_ backend: Backend, for duration: TimeAmount = .seconds(10)) {
        guard let index = backends.firstIndex(of: backend) else { return }
        ejectedUntil[index].until.store(NIODeadline.now().uptimeNanoseconds + UInt64(duration.nanoseconds), ordering: .relaxed)
    }
}

/// Holds the current snapshot; readers take a reference under a very short lock.
final class RouteState: Sendable {
    private let current: Mutex<RouteSnapshot>
    let registry: StatsRegistry
    /// ACME challenges the router answers while a CA validates them.
    let challenges = ChallengeBoard()
    /// Certificates obtained on demand, by name.
    let onDemand = OnDemandCertificates()

    init(table: RouteTable, registry: StatsRegistry) {
        self.registry = registry
        current = Mutex(RouteSnapshot(table: table, registry: registry))
    }

    var snapshot: RouteSnapshot { current.withLock { $0 } }

    /// Bumped at every swap: a connection keeps its listener's compiled view until this changes, so the
    /// request path reads one atomic instead of taking the lock.
    let version = Atomic<Int>(0)
    /// Set when this router hands over to a new process: connections close after their current exchange.
    let draining = Atomic<Bool>(false)
    /// Client connections accepted and not yet closed, counted from the accept (before a connection is
    /// set up on its loop), so a drain never ends while one is on its way.
    let openConnections = Atomic<Int>(0)

    func replace(_ table: RouteTable) {
        let next = RouteSnapshot(table: table, registry: registry)
        current.withLock { $0 = next }
        version.add(1, ordering: .releasing)
        // Requests held by a paused listener look at the new table on their own event loop.
        let woken = waiters.withLock { all -> [Waiter] in
            let list = Array(all.values)
            all.removeAll()
            return list
        }
        for w in woken { w.loop.execute(w.wake) }
    }

    // MARK: Held requests

    struct Waiter: Sendable {
        let listener: String
        let loop: any EventLoop
        let wake: @Sendable () -> Void
    }

    private let waiters = Mutex<[ObjectIdentifier: Waiter]>([:])

    /// Calls `wake` on `loop` at the next table change.
    func waitForChange(_ id: ObjectIdentifier, listener: String, loop: any EventLoop, wake: @escaping @Sendable () -> Void) {
        waiters.withLock { $0[id] = Waiter(listener: listener, loop: loop, wake: wake) }
    }

    func stopWaiting(_ id: ObjectIdentifier) {
        _ = waiters.withLock { $0.removeValue(forKey: id) }
    }

    /// Requests held right now, per listener.
    func held() -> [String: Int] {
        waiters.withLock { all in
            var out: [String: Int] = [:]
            for w in all.values { out[w.listener, default: 0] += 1 }
            return out
        }
    }
}
