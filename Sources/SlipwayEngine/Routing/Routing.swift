import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// The route table: built from the records (each environment's serving release, a rollout's or a canary's
/// weights, maintenance, the router settings) and pushed to the router process, which it starts when it is
/// not running (the `router-liveness` periodic job) and restarts without a gap on request. It owns the
/// table's generation; everything that changes traffic writes the records, then asks for a push.
public actor Routing: FeatureObject {
    let context: EngineContext
    /// The last table's generation: strictly increasing, above anything a previous daemon run pushed.
    var lastGeneration = 0

    init(context: EngineContext) { self.context = context }

    /// What the router should serve: per environment, the current release's ready, running instances.
    func table() throws(SlipwayError) -> RouteTable {
        var listeners: [ListenerTable] = []
        let all = try store.instances()
        for name in config.environmentNames {
            guard let env = config.environments[name] else { continue }
            let record = try store.environment(name)
            // An environment in maintenance keeps its listener even with nothing serving: it answers the page.
            guard record.currentRelease != nil || record.maintenance != nil else { continue }
            var pools: [Pool] = []
            func backends(_ release: String) -> [Backend] {
                all.filter { $0.environment == name && $0.release == release && $0.state == .running && $0.ready }.map { Backend(port: $0.port) }
            }
            if let rollout = record.rollout, !rollout.isEmpty {
                // A canary's pool is listed first: with a sticky header it takes the lowest hash buckets.
                let canary = record.canary?.release
                for (release, weight) in rollout.sorted(by: { ($0.key == canary ? 0 : 1, $0.key) < ($1.key == canary ? 0 : 1, $1.key) }) {
                    pools.append(Pool(name: release, weight: weight, backends: backends(release)))
                }
            } else if let current = record.currentRelease {
                pools.append(Pool(name: current, weight: 100, backends: backends(current)))
            }
            listeners.append(ListenerTable(name: name, listen: env.router.listen, drainTimeoutMs: env.router.drainTimeout.milliseconds,
                                           pools: pools, maintenance: record.maintenance,
                                           timeouts: .init(connectMs: env.router.connectTimeout.milliseconds, responseMs: env.router.responseTimeout.milliseconds,
                                                           idleMs: env.router.idleTimeout.milliseconds),
                                           forwardedHeaders: env.router.forwardedHeaders, requestIdHeader: env.router.requestIdHeader,
                                           sticky: record.canary == nil ? nil : env.canary.sticky))
            if env.canary.retryOnStable, let canary = record.canary { listeners[listeners.count - 1].retryCanary = canary.release }
            listeners[listeners.count - 1].route = env.router.route
            listeners[listeners.count - 1].tls = env.router.tls
            listeners += try typeListeners(env, from: listeners[listeners.count - 1])
        }
        // Strictly increasing, and above anything a previous daemon run pushed (milliseconds since 1970).
        lastGeneration = max(lastGeneration + 1, Int(Date().timeIntervalSince1970 * 1000))
        return RouteTable(generation: lastGeneration, listeners: listeners)
    }

    /// A routed process type's listener (`production/api`): the environment's address, hosts and settings, the type's
    /// path, and its serving processes, a pool per release (two only while a move drains).
    func typeListeners(_ env: EnvironmentConfig, from listener: ListenerTable) throws(SlipwayError) -> [ListenerTable] {
        let routed = env.processTypes.filter { $0.route != nil }
        guard !routed.isEmpty else { return [] }
        let workers = try store.workers.all(environment: env.name)
        return routed.map { type in
            var table = listener
            table.name = "\(env.name)/\(type.name)"
            table.route = RouteMatch(hosts: env.router.route?.hosts ?? [], path: type.route?.path, stripPrefix: type.route?.stripPrefix ?? false)
            table.sticky = nil
            table.retryCanary = nil
            let serving = workers.filter { $0.type == type.name && $0.serving && $0.state == .running && $0.pid > 0 && $0.port > 0 }
            table.pools = Dictionary(grouping: serving, by: \.release).sorted { $0.key < $1.key }
                .map { Pool(name: $0.key, weight: 100, backends: $0.value.map { Backend(port: $0.port) }) }
            return table
        }
    }

    /// Starts the router if it is not running, then gives it the table as the records say now.
    public func push() async throws(SlipwayError) {
        try await router.ensureRunning(logger: logger)
        try await router.push(try table())
    }

    /// Pushes the table where the caller goes on either way (a best effort): a failure is logged.
    func pushLogged() async {
        do { try await push() } catch { logger.error("cannot push the route table", metadata: ["error": "\(error)"]) }
    }

    /// The certificates the router serves over HTTPS, as it loaded them (`slipway certs`).
    public nonisolated func certificates() async throws(SlipwayError) -> [CertificateInfo] {
        try await router.certificates()
    }

    /// Waits until the router reports no request in flight on `pool` of `environment`, or `timeout`.
    nonisolated func waitForDrain(environment: String, pool: String, timeout: Duration) async -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            let inflight = (try? await router.stats())?[environment]?[pool]?.inflight ?? 0
            if inflight == 0 || ContinuousClock.now >= deadline { return inflight }
            try? await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Starts the router again when it stops answering, and gives it the table.
    func keepRunning() async {
        guard !(await router.isRunning()) else { return }
        logger.warning("the router is not answering; starting it again")
        await pushLogged()  // starts it first
    }
}
