import Foundation
import Logging
import SlipwayCore
@testable import SlipwayEngine
import SlipwayRuntime
import SlipwayStore
import Testing

/// The route table `Routing` builds from the records, with an in-memory store and no router process.
@Suite struct RoutingTableTests {
    static func routing(_ yaml: String = "") throws -> (Routing, SlipwayStore) {
        let cfg = try ConfigLoader.parse(yaml: "app: shop\nprocess: { command: x }\nrouter: { listen: 127.0.0.1:8100 }\n" + yaml,
                                         file: "/srv/shop/slipway.yml", directory: "/srv/shop")
        let store = try SlipwayStore.inMemory()
        let logger = Logger(label: "test")
        let context = EngineContext(store: store, releases: ReleaseStore(directory: "/nonexistent/releases"),
                                    router: RouterController(root: "/nonexistent", executable: "/bin/false"),
                                    supervisor: Supervisor(store: store, root: "/nonexistent", secrets: Secrets(root: "/nonexistent"), launcher: "/nonexistent", logger: logger),
                                    logger: logger, configs: ConfigSource(cfg), admission: Admission())
        return (Routing(context: context), store)
    }

    static func instance(_ store: SlipwayStore, _ release: String, slot: Int, port: Int, state: InstanceState = .running,
                         ready: Bool = true) throws {
        try store.save(InstanceRecord(environment: "production", release: release, slot: slot, port: port, pid: Int32(10_000 + port),
                                      procStartTime: 0, state: state, ready: ready, logFile: "/dev/null"))
    }

    @Test func aCanarysPoolComesFirstWithItsWeightAndOnlyReadyRunningInstances() async throws {
        let (routing, store) = try Self.routing("canary: { sticky: { header: X-User }, retry_on_stable: true }\n")
        try Self.instance(store, "v1", slot: 0, port: 9001)
        try Self.instance(store, "v1", slot: 1, port: 9002)
        try Self.instance(store, "v1", slot: 2, port: 9003, state: .standby, ready: false)  // warm, not serving
        try Self.instance(store, "v2", slot: 0, port: 9101)
        try Self.instance(store, "v2", slot: 1, port: 9102, ready: false)                    // not ready yet
        var record = EnvironmentRecord(name: "production", currentRelease: "v1")
        record.canary = CanaryInfo(deploymentId: 7, release: "v2", stable: "v1", step: 0, steps: 2, weight: 10, plan: "10% → 100%",
                                   startedAt: Date(), baseCanary: RequestCounts(), baseStable: RequestCounts())
        record.rollout = ["v1": 90, "v2": 10]
        try store.save(record)

        let listener = try #require(try await routing.table().listeners.first)
        #expect(listener.name == "production")
        #expect(listener.pools.map(\.name) == ["v2", "v1"], "the canary first: a sticky header's lowest buckets are its")
        #expect(listener.pools.map(\.weight) == [10, 90])
        #expect(listener.pools.map { $0.backends.map(\.port) } == [[9101], [9001, 9002]])
        #expect(listener.sticky == .header("X-User"))
        #expect(listener.retryCanary == "v2")
    }

    @Test func withoutACanaryTheCurrentReleaseServesAloneAndUnsticky() async throws {
        let (routing, store) = try Self.routing("canary: { sticky: { header: X-User } }\n")
        try Self.instance(store, "v1", slot: 0, port: 9001)
        try store.save(EnvironmentRecord(name: "production", currentRelease: "v1", previousRelease: "v0"))
        let listener = try #require(try await routing.table().listeners.first)
        #expect(listener.pools == [Pool(name: "v1", weight: 100, backends: [Backend(port: 9001)])])
        #expect(listener.sticky == nil && listener.retryCanary == nil)
    }

    @Test func maintenanceKeepsTheListenerWithNothingServingAndNothingElseDoes() async throws {
        let (routing, store) = try Self.routing()
        #expect(try await routing.table().listeners.isEmpty, "nothing serves, no maintenance: no listener")
        let page = MaintenanceMode(mode: .on, html: "<p>back soon</p>", retryAfterS: 60, holdLimitMs: 0, since: 0, actor: "ops")
        try store.save(EnvironmentRecord(name: "production", maintenance: page))
        let listener = try #require(try await routing.table().listeners.first)
        #expect(listener.pools.isEmpty)
        #expect(listener.maintenance == page)
    }

    @Test func everyTableHasAHigherGenerationThanTheOneBefore() async throws {
        let (routing, _) = try Self.routing()
        let first = try await routing.table().generation, second = try await routing.table().generation
        #expect(second > first)
        #expect(first >= Int(Date().timeIntervalSince1970 * 1000) - 60_000, "above anything a previous daemon run pushed (milliseconds since 1970)")
    }
}
