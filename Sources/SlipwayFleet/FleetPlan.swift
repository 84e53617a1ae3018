import SlipwayCore

/// Pure decisions of a fleet deploy: the batches hosts are activated in, and the next epoch.
public enum FleetPlan {
    /// Host indices in activation order: one batch of all (`all_at_once`), or `batch` at a time (`rolling`; a share is
    /// of the hosts deployed to), never more than `max_unavailable` at once. `canary`: the first `canary.hosts` alone,
    /// then the rest `batch` at a time.
    public static func batches(hosts: Int, _ settings: FleetSettings) -> [[Int]] {
        guard hosts > 0 else { return [] }
        var size = settings.strategy == .allAtOnce ? hosts : settings.batch.of(hosts)
        if let cap = settings.maxUnavailable { size = min(size, cap.of(hosts)) }
        // A canary's hosts go alone first.
        let first = settings.strategy == .canary ? min(max(1, settings.canaryHosts), hosts) : 0
        return (first > 0 ? [Array(0..<first)] : []) + stride(from: first, to: hosts, by: size).map { Array($0..<min($0 + size, hosts)) }
    }

    /// The epoch a controller acts with: above every epoch any host has seen for the app's environment.
    public static func epoch(after statuses: [HostStatus], app: String, environment: String) -> Int64 {
        (statuses.flatMap(\.environments).filter { $0.app == app && $0.name == environment }.map(\.epoch).max() ?? 0) + 1
    }
}

/// Runs `body` for each item, at most `limit` at once; results in the items' order.
func concurrently<T: Sendable, R: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async -> R) async -> [R] {
    await withTaskGroup(of: (Int, R).self) { group in
        var results: [R?] = Array(repeating: nil, count: items.count)
        var next = 0
        func start() {
            guard next < items.count else { return }
            let i = next, item = items[i]
            next += 1
            group.addTask { (i, await body(item)) }
        }
        for _ in 0..<min(max(1, limit), items.count) { start() }
        while let (i, r) = await group.next() {
            results[i] = r
            start()
        }
        return results.map { $0! }
    }
}
