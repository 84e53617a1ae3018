import Foundation
import SlipwayCore
@testable import SlipwayFleet
import Synchronization
import Testing

/// A fleet deploy over fake hosts: what is staged before what is activated, which hosts revert after a failure,
/// and that an unreachable host changes nothing.
struct FleetDeployTests {
    /// Records every call, in order, across hosts.
    final class Journal: Sendable {
        let calls = Mutex<[String]>([])
        func add(_ s: String) { calls.withLock { $0.append(s) } }
        var all: [String] { calls.withLock { $0 } }
    }

    struct FakeHost: FleetHost {
        let name: String
        let journal: Journal
        var unreachable = false
        var failsActivation = false
        var current: String? = "v1"
        var epoch: Int64 = 0

        func connect() async throws(SlipwayError) {
            if unreachable { throw SlipwayError(.unavailable, "cannot reach \(name)") }
        }
        func status() async throws(SlipwayError) -> HostStatus {
            HostStatus(hostname: name, environments: [.init(app: "shop", name: "production", current: current, healthy: true, epoch: epoch, releases: [])])
        }
        func stageConfig(app: String, yaml: String) async throws(SlipwayError) { journal.add("config \(name)") }
        func stage(app: String, version: String, digest: String, artifact: [UInt8]) async throws(SlipwayError) -> HostStageResult {
            journal.add("stage \(name)")
            return HostStageResult(version: version, digest: digest, staged: true)
        }
        func activate(app: String, _ r: HostActivateRequest, deadline: Duration) async throws(SlipwayError) -> HostActivation {
            journal.add("activate \(name) epoch \(r.epoch)")
            if failsActivation { return HostActivation(succeeded: false, current: "v1", previous: "v1", hostDeployment: 1, message: "not ready") }
            return HostActivation(succeeded: true, current: r.version, previous: "v1", hostDeployment: 1, message: "\(r.version) serves")
        }
        func revert(app: String, _ r: HostRevertRequest, deadline: Duration) async throws(SlipwayError) -> HostActivation {
            journal.add("revert \(name)")
            return HostActivation(succeeded: true, current: "v1", previous: "v1", hostDeployment: 2, message: "v1 serves")
        }
        func disconnect() async {}
    }

    func deploy(_ settings: FleetSettings = FleetSettings()) -> FleetDeploy {
        FleetDeploy(app: "shop", environment: "production", version: "v2", digest: "sha256:x", settings: settings, maxParallel: 30, actor: "t",
                    deployment: "fd-1") { _ in }
    }

    @Test func rollingStagesEveryHostBeforeActivatingOneBatchAtATime() async {
        let j = Journal()
        let hosts = (1...4).map { FakeHost(name: "h\($0)", journal: j, epoch: $0 == 3 ? 7 : 0) }
        let outcome = await deploy().run(hosts: hosts, config: "app: shop", artifact: [1])
        #expect(outcome.state == .succeeded && outcome.epoch == 8, "the epoch is above every host's")
        let calls = j.all
        let lastStage = calls.lastIndex { $0.hasPrefix("stage") }!, firstActivate = calls.firstIndex { $0.hasPrefix("activate") }!
        #expect(calls.filter { $0.hasPrefix("stage") }.count == 4 && lastStage < firstActivate, "every host staged before any is activated: \(calls)")
        #expect(calls.filter { $0.hasPrefix("activate") } == ["activate h1 epoch 8", "activate h2 epoch 8", "activate h3 epoch 8", "activate h4 epoch 8"])
        #expect(outcome.hosts.map(\.current) == ["v2", "v2", "v2", "v2"])
    }

    @Test func aFailedHostRevertsEverySwitchedHostAndLeavesTheRestUntouched() async {
        let j = Journal()
        var hosts = (1...4).map { FakeHost(name: "h\($0)", journal: j) }
        hosts[2].failsActivation = true
        let outcome = await deploy().run(hosts: hosts, config: "", artifact: [])
        #expect(outcome.state == .rolledBack)
        #expect(outcome.hosts.map(\.state) == [.reverted, .reverted, .reverted, .staged], "h4's batch never started")
        #expect(!j.all.contains("activate h4 epoch 1"))
        #expect(Set(j.all.filter { $0.hasPrefix("revert") }) == ["revert h1", "revert h2", "revert h3"])
        #expect(outcome.hosts.prefix(3).allSatisfy { $0.current == "v1" }, "the fleet ends uniform on the old release")
    }

    @Test func haltLeavesTheFleetPartialWithoutReverting() async {
        let j = Journal()
        var hosts = (1...3).map { FakeHost(name: "h\($0)", journal: j) }
        hosts[1].failsActivation = true
        var settings = FleetSettings()
        settings.onFailure = .halt
        let outcome = await deploy(settings).run(hosts: hosts, config: "", artifact: [])
        #expect(outcome.state == .partial && !j.all.contains { $0.hasPrefix("revert") })
        #expect(outcome.hosts.map(\.state) == [.activated, .failed, .staged])
    }

    @Test func anUnreachableHostChangesNothingAnywhere() async {
        let j = Journal()
        var hosts = (1...3).map { FakeHost(name: "h\($0)", journal: j) }
        hosts[1].unreachable = true
        let outcome = await deploy().run(hosts: hosts, config: "", artifact: [])
        #expect(outcome.state == .failed && outcome.phase == .preflight)
        #expect(j.all.isEmpty, "nothing staged or activated: \(j.all)")
        #expect(outcome.hosts[1].state == .unreachable && outcome.hosts[1].message.contains("cannot reach h2"))
    }

    @Test func batchesFollowTheStrategy() {
        var s = FleetSettings()
        s.batch = 2
        #expect(FleetPlan.batches(hosts: 5, s) == [[0, 1], [2, 3], [4]])
        s.strategy = .allAtOnce
        #expect(FleetPlan.batches(hosts: 5, s) == [[0, 1, 2, 3, 4]])
        #expect(FleetPlan.batches(hosts: 0, s) == [])
    }

    @Test func aHostRefusesAStaleEpochAndRemembersTheFirstReplacedRelease() throws {
        var ledger = HostLedger()
        try ledger.fence(app: "shop", environment: "production", epoch: 3)
        #expect(throws: SlipwayError.self) { try ledger.fence(app: "shop", environment: "production", epoch: 2) }
        #expect(ledger.epoch(app: "shop", environment: "production") == 3, "a refused epoch changes nothing")
        try ledger.fence(app: "shop", environment: "staging", epoch: 1)
        ledger.remember(app: "shop", environment: "production", deployment: "fd-1", previous: "v1")
        ledger.remember(app: "shop", environment: "production", deployment: "fd-1", previous: "v2")
        #expect(ledger.replaced(app: "shop", environment: "production", deployment: "fd-1") == "v1", "a repeated activation keeps the first answer")
        ledger.remember(app: "shop", environment: "production", deployment: "fd-2", previous: nil)
        #expect(ledger.replaced(app: "shop", environment: "production", deployment: "fd-2") == "")
        #expect(ledger.replaced(app: "shop", environment: "production", deployment: "fd-3") == nil)
    }
}
