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

    /// The lease host's ledger, shared by every controller in a test.
    final class SharedLedger: Sendable {
        let ledger = Mutex(HostLedger())
    }

    struct FakeHost: FleetHost {
        let name: String
        let journal: Journal
        var ledger = SharedLedger()
        /// How long an activation takes.
        var activation: Duration = .zero
        var unreachable = false
        var failsActivation = false
        /// The link goes down while it activates.
        var lostWhileActivating = false
        /// v2 fails half its requests here; `reads` counts traffic reads (each read shows 100 more requests).
        var flaky = false
        /// v2's p99 latency here, in its router's windows (nil: the host reports counters only).
        var v2P99Ms: Double?
        let reads = Journal()
        var current: String? = "v1"
        /// An activation finds the release serving already (no deployment runs).
        var servesAlready = false
        var epoch: Int64 = 0
        var releases = ["v1", "v2"]

        func connect() async throws(SlipwayError) {
            if unreachable { throw SlipwayError(.unavailable, "cannot reach \(name)") }
        }
        func status() async throws(SlipwayError) -> HostStatus {
            HostStatus(hostname: name, environments: [.init(app: "shop", name: "production", current: current, healthy: true, epoch: epoch, releases: releases)])
        }
        func stageConfig(app: String, yaml: String) async throws(SlipwayError) { journal.add("config \(name)") }
        func stage(app: String, version: String, digest: String, artifact: [UInt8]) async throws(SlipwayError) -> HostStageResult {
            journal.add("stage \(name)")
            return HostStageResult(version: version, digest: digest, staged: true)
        }
        func traffic(app: String, environment: String) async throws(SlipwayError) -> [String: RequestCounts] {
            reads.add("read")
            let n = reads.all.count
            return ["v1": RequestCounts(requests: 100 * n, errors: n), "v2": RequestCounts(requests: 100 * n, errors: flaky ? 50 * n : n)]
        }
        func samples(app: String, environment: String) async throws(SlipwayError) -> [String: ReleaseSample] {
            let counts = try await traffic(app: app, environment: environment)
            guard let slow = v2P99Ms else { return counts.mapValues { ReleaseSample(counts: $0) } }
            func window(_ p99: Double) -> [String: WindowStats] {
                Dictionary(uniqueKeysWithValues: ReleaseSample.windowSeconds.map { ($0.name, WindowStats(requests: 500, responses2xx: 500, p50Ms: p99 / 2, p90Ms: p99, p99Ms: p99)) })
            }
            return counts.mapValues { ReleaseSample(counts: $0) }.merging(["v1": ReleaseSample(counts: counts["v1"] ?? RequestCounts(), windows: window(20)),
                                                                          "v2": ReleaseSample(counts: counts["v2"] ?? RequestCounts(), windows: window(slow))]) { $1 }
        }
        func lease(app: String, _ r: HostLeaseRequest) async throws(SlipwayError) -> FleetLease {
            ledger.ledger.withLock { l in
                if r.release {
                    _ = l.unlease(app: app, environment: r.environment, holder: r.holder)
                    journal.add("release \(r.holder)")
                    return FleetLease(holder: r.holder, epoch: 0, expires: Date(), granted: true)
                }
                return l.lease(app: app, environment: r.environment, holder: r.holder, ttl: .seconds(r.ttlSeconds), now: Date())
            }
        }
        func activate(app: String, _ r: HostActivateRequest, deadline: Duration) async throws(SlipwayError) -> HostActivation {
            journal.add("activate \(name) epoch \(r.epoch)" + (r.skipData == true ? " (no data steps)" : ""))
            if activation > .zero { try? await Task.sleep(for: activation) }
            if lostWhileActivating { throw SlipwayError(.unavailable, "\(name): connection closed") }
            if failsActivation { return HostActivation(succeeded: false, current: "v1", previous: "v1", hostDeployment: 1, message: "not ready") }
            if servesAlready { return HostActivation(succeeded: true, current: r.version, previous: "v1", hostDeployment: nil, message: "\(r.version) serves already") }
            return HostActivation(succeeded: true, current: r.version, previous: "v1", hostDeployment: 1, message: "\(r.version) serves")
        }
        func revert(app: String, _ r: HostRevertRequest, deadline: Duration) async throws(SlipwayError) -> HostActivation {
            journal.add("revert \(name)")
            return HostActivation(succeeded: true, current: "v1", previous: "v1", hostDeployment: 2, message: "v1 serves")
        }
        func disconnect() async {}
    }

    func deploy(_ settings: FleetSettings = FleetSettings(), id: String = "fd-1") -> FleetDeploy {
        FleetDeploy(app: "shop", environment: "production", version: "v2", digest: "sha256:x", settings: settings, maxParallel: 30, actor: "t",
                    deployment: id) { _ in }
    }

    @Test func rollingStagesEveryHostBeforeActivatingOneBatchAtATime() async {
        let j = Journal()
        let hosts = (1...4).map { FakeHost(name: "h\($0)", journal: j, epoch: $0 == 3 ? 7 : 0) }
        let outcome = await deploy().run(hosts: hosts, config: "app: shop", artifact: [1])
        #expect(outcome.state == .succeeded && outcome.epoch == 8, "the epoch is above every host's")
        #expect(j.all.last == "release t fd-1", "the lease is given back at the end")
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

    /// `max_failed: 1` with batches of two: h2 fails (its own health gate kept v1), the deploy goes on to h3 and h4, nothing
    /// is reverted, and it ends partial (exit 1) naming h2. A second failure in one batch stops it as before.
    @Test func failuresWithinMaxFailedLetTheDeployGoOnAndItEndsPartial() async {
        var s = FleetSettings()
        s.batch = .count(2)
        s.maxFailed = .count(1)
        let j = Journal()
        var hosts = (1...4).map { FakeHost(name: "h\($0)", journal: j) }
        hosts[1].failsActivation = true
        let outcome = await deploy(s).run(hosts: hosts, config: "", artifact: [])
        #expect(outcome.state == .partial && outcome.exitCode == 1, "\(outcome.message)")
        #expect(outcome.hosts.map(\.state) == [.activated, .failed, .activated, .activated])
        #expect(outcome.hosts.map(\.current) == ["v2", "v1", "v2", "v2"])
        #expect(!j.all.contains { $0.hasPrefix("revert") }, "nothing is reverted: \(j.all)")
        #expect(outcome.message == "v2 serves on 3 of 4 host(s); failed within max_failed: h2 (deploy resume fd-1 tries them again)")

        hosts[3].failsActivation = true
        hosts[2].failsActivation = true
        let worse = await deploy(s).run(hosts: hosts, config: "", artifact: [])
        #expect(worse.state == .rolledBack && worse.hosts.map(\.state) == [.reverted, .reverted, .reverted, .reverted], "\(worse.message)")
    }

    /// A share of the hosts, capped by `max_unavailable`, and a pause between batches.
    @Test func batchSharesMaxUnavailableAndPause() async {
        var s = FleetSettings()
        s.batch = .percent(50)
        #expect(FleetPlan.batches(hosts: 5, s) == [[0, 1, 2], [3, 4]], "50% of 5 rounds up")
        s.maxUnavailable = .count(2)
        #expect(FleetPlan.batches(hosts: 5, s) == [[0, 1], [2, 3], [4]])
        s.maxUnavailable = .percent(20)
        #expect(FleetPlan.batches(hosts: 5, s) == [[0], [1], [2], [3], [4]])
        #expect(HostCount.percent(10).tolerated(of: 5) == 0 && HostCount.percent(50).tolerated(of: 5) == 2)

        s = FleetSettings()
        s.pause = .milliseconds(20)
        let lines = Journal()
        var d = deploy(s)
        d.log = { lines.add($0) }
        let outcome = await d.run(hosts: (1...3).map { FakeHost(name: "h\($0)", journal: Journal()) }, config: "", artifact: [])
        #expect(outcome.state == .succeeded)
        #expect(lines.all.filter { $0.hasPrefix("pause") } == ["pause: 20ms before batch 2", "pause: 20ms before batch 3"], "\(lines.all)")
    }

    @Test func aHostLostWhileActivatingIsUnknownAndTheOthersRevert() async {
        let j = Journal()
        var hosts = (1...4).map { FakeHost(name: "h\($0)", journal: j) }
        hosts[2].lostWhileActivating = true
        let outcome = await deploy().run(hosts: hosts, config: "", artifact: [])
        #expect(outcome.state == .rolledBack && outcome.hosts.map(\.state) == [.reverted, .reverted, .unknown, .staged])
        #expect(!j.all.contains("revert h3"), "a host that does not answer is not asked")
        #expect(outcome.message.contains("unknown: h3"))
    }

    @Test func aPassedProgressDeadlineStartsNoNewBatchAndRevertsTheSwitchedHosts() async {
        let j = Journal()
        // The first batch always starts; it alone takes longer than the deadline, so the second never does.
        let hosts = (1...3).map { FakeHost(name: "h\($0)", journal: j, activation: .milliseconds(300)) }
        var settings = FleetSettings()
        settings.progressDeadline = .milliseconds(200)
        let outcome = await deploy(settings).run(hosts: hosts, config: "", artifact: [])
        #expect(outcome.state == .rolledBack && outcome.message.hasPrefix("progress_deadline 200ms passed before batch 2"), "\(outcome.message)")
        #expect(outcome.hosts.map(\.state) == [.reverted, .staged, .staged])
        #expect(j.all.filter { $0.hasPrefix("activate") } == ["activate h1 epoch 1"])
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

    @Test func twoControllersAtOnceExactlyOneDeploysAndAWaitingOneFollows() async {
        let j = Journal(), ledger = SharedLedger()
        let hosts = (1...2).map { FakeHost(name: "h\($0)", journal: j, ledger: ledger, activation: .milliseconds(300)) }
        async let a = deploy(id: "fd-a").run(hosts: hosts, config: "", artifact: [])
        async let b = deploy(id: "fd-b").run(hosts: hosts, config: "", artifact: [])
        let (first, second) = await (a, b)
        #expect([first.state, second.state].sorted { $0.rawValue < $1.rawValue } == [.refused, .succeeded], "\(first.message) / \(second.message)")
        let refused = first.state == .refused ? first : second
        #expect(refused.exitCode == 3 && refused.message.contains("is being deployed by t fd-") && refused.phase == .lease)
        #expect(j.all.filter { $0.hasPrefix("stage") }.count == 2, "the refused one staged nothing")

        var waiting = deploy(id: "fd-c")
        waiting.lockWait = .seconds(20)
        async let c = deploy(id: "fd-d").run(hosts: hosts, config: "", artifact: [])
        try? await Task.sleep(for: .milliseconds(50))
        async let d = waiting.run(hosts: hosts, config: "", artifact: [])
        let (holder, follower) = await (c, d)
        #expect(holder.state == .succeeded && follower.state == .succeeded, "--lock-wait proceeds once the lease is given back")
        #expect(follower.epoch > holder.epoch, "each holder gets a new epoch")
    }

    @Test func excludeUnreachableDeploysToTheOthersAndRecordsTheSkippedOne() async {
        let j = Journal()
        var hosts = (1...3).map { FakeHost(name: "h\($0)", journal: j) }
        hosts[2].unreachable = true
        var d = deploy()
        d.excludeUnreachable = true
        let outcome = await d.run(hosts: hosts, config: "", artifact: [])
        #expect(outcome.state == .succeeded && outcome.hosts.map(\.state) == [.activated, .activated, .skipped])
        #expect(outcome.message.contains("skipped (drift): h3"))
    }

    @Test func aFleetRollbackStagesNothingAndNeedsTheReleaseOnEveryHost() async {
        let j = Journal()
        var hosts = (1...3).map { FakeHost(name: "h\($0)", journal: j) }
        var d = deploy()
        d.rollbackTo = true
        let outcome = await d.run(hosts: hosts, config: "", artifact: [])
        #expect(outcome.state == .succeeded && !j.all.contains { $0.hasPrefix("stage") || $0.hasPrefix("config") }, "\(j.all)")
        hosts[1].releases = ["v1"]
        let refused = await d.run(hosts: hosts, config: "", artifact: [])
        #expect(refused.state == .failed && refused.phase == .preflight && refused.message.contains("v2 is not on h2"))
        #expect(j.all.filter { $0.hasPrefix("activate") }.count == 3, "the refused rollback activated nothing")
    }

    func canary(_ hosts: [FakeHost], promote: FleetSettings.Promote = .auto, rules: [String]? = nil,
                providers: (settings: [ProviderSettings], read: @Sendable () async -> [ProviderReading])? = nil) async -> FleetOutcome {
        var settings = FleetSettings()
        settings.strategy = .canary
        settings.canaryPromote = promote
        settings.canaryAnalysis = .milliseconds(600)
        var d = deploy(settings)
        d.canaryInterval = .milliseconds(20)
        if let rules { d.analysis = AnalysisSettings(minRequests: 40, rules: rules.compactMap { try? RuleParser.parse($0) }) }
        if let providers {
            d.analysis.providers = providers.settings
            d.readProviders = providers.read
        }
        return await d.run(hosts: hosts, config: "", artifact: [])
    }

    @Test func aFleetCanaryFailingHalfItsRequestsIsRevertedAndTheOthersAreNeverTouched() async {
        let j = Journal()
        var hosts = (1...4).map { FakeHost(name: "h\($0)", journal: j) }
        hosts[0].flaky = true
        let outcome = await canary(hosts)
        #expect(outcome.state == .rolledBack && outcome.message.hasPrefix("canary failed: error_rate > baseline + 2%: canary 50.0% (50/100) vs baseline 1.0% (3/300)"), "\(outcome.message)")
        #expect(outcome.hosts.map(\.state) == [.reverted, .staged, .staged, .staged])
        #expect(j.all.filter { $0.hasPrefix("activate") } == ["activate h1 epoch 1"] && j.all.contains("revert h1"))
    }

    /// `fleet.data: once`: the first host of the first batch runs the data steps alone before any other host switches;
    /// every other activation skips them; when the data host fails, no other host is asked.
    @Test func theDataStepsRunOnceOnTheFirstHostBeforeTheOthersSwitch() async {
        var settings = FleetSettings()
        settings.strategy = .allAtOnce
        let j = Journal()
        var d = deploy(settings)
        d.dataOnce = true
        let outcome = await d.run(hosts: (1...3).map { FakeHost(name: "h\($0)", journal: j) }, config: "", artifact: [])
        let activations = j.all.filter { $0.hasPrefix("activate") }
        #expect(outcome.state == .succeeded && activations.first == "activate h1 epoch 1", "\(j.all)")
        #expect(activations.dropFirst().sorted() == ["activate h2 epoch 1 (no data steps)", "activate h3 epoch 1 (no data steps)"], "\(j.all)")

        let k = Journal()
        var hosts = (1...3).map { FakeHost(name: "h\($0)", journal: k) }
        hosts[0].failsActivation = true
        let failed = await d.run(hosts: hosts, config: "", artifact: [])
        #expect(failed.state == .rolledBack && k.all.filter { $0.hasPrefix("activate") } == ["activate h1 epoch 1"], "\(k.all)")
        #expect(failed.hosts.map(\.state) == [.reverted, .staged, .staged], "\(failed.hosts)")

        d.dataOnce = false
        let l = Journal()
        _ = await d.run(hosts: (1...3).map { FakeHost(name: "h\($0)", journal: l) }, config: "", artifact: [])
        #expect(!l.all.contains { $0.contains("no data steps") }, "each_host: every host runs its own")
    }

    @Test func theDataSettingFollowsTheBackupSourcesUnlessSet() throws {
        var s = FleetSettings()
        let sqlite = BackupSettings(sources: [BackupSourceConfig(name: "db", kind: .sqlite(path: "/srv/db.sqlite"))], stores: [])
        let postgres = BackupSettings(sources: [BackupSourceConfig(name: "db", kind: .postgres(urlSecret: "DATABASE_URL"))], stores: [])
        #expect(s.dataSteps(backup: nil) == .once && s.dataSteps(backup: postgres) == .once && s.dataSteps(backup: sqlite) == .eachHost)
        s.data = .once
        #expect(s.dataSteps(backup: sqlite) == .once)
    }

    /// The same rules as a single host's canary: a latency rule judges the canary hosts' router windows against the others'.
    @Test func aFleetCanarySlowerThanTheOthersFailsALatencyRuleAndAFastOnePasses() async {
        let j = Journal()
        var hosts = (1...4).map { FakeHost(name: "h\($0)", journal: j) }
        for i in hosts.indices { hosts[i].v2P99Ms = 25 }
        hosts[0].v2P99Ms = 900
        let slow = await canary(hosts, rules: ["p99_latency > 2 * baseline"])
        #expect(slow.state == .rolledBack && slow.message.hasPrefix("canary failed: p99_latency > 2 * baseline: 900 ms against 40 ms"), "\(slow.message)")
        #expect(slow.hosts.map(\.state) == [.reverted, .staged, .staged, .staged])
        hosts[0].v2P99Ms = 30
        let fast = await canary(hosts, rules: ["p99_latency > 2 * baseline"])
        #expect(fast.state == .succeeded, "\(fast.message)")
    }

    /// `analysis.providers` judge a fleet canary too: a Prometheus query whose number makes `fail_if` true fails it.
    @Test func aFleetCanaryFailsOnAProviderAsASingleHostsDoes() async throws {
        let j = Journal()
        let query = ProviderSettings(source: .prometheus(url: try #require(HTTPURL("http://127.0.0.1:9090")), query: "sum(rate(checkout_failures_total[1m]))"),
                                     failIf: try RuleParser.parse("value > 5"))
        let failing = await canary((1...3).map { FakeHost(name: "h\($0)", journal: j) },
                                   providers: ([query], { [ProviderReading(name: query.name, value: 12)] }))
        #expect(failing.state == .rolledBack && failing.message.hasPrefix("canary failed: prometheus sum(rate(checkout_failures_total[1m]))"), "\(failing.message)")
        let fine = await canary((1...3).map { FakeHost(name: "h\($0)", journal: j) }, providers: ([query], { [ProviderReading(name: query.name, value: 1)] }))
        #expect(fine.state == .succeeded, "\(fine.message)")
    }

    /// Several hosts' windows as one side: counters add up; the canary's latency is its worst host's, the baseline's the
    /// requests-weighted mean; a canary host that reports nothing is an instance gone.
    @Test func hostsSamplesMergeIntoOneObservation() {
        func sample(_ requests: Int, _ errors: Int, p99: Double, window: Int) -> ReleaseSample {
            ReleaseSample(counts: RequestCounts(requests: requests, errors: errors),
                          windows: ["10s": WindowStats(requests: window, responses2xx: window, p99Ms: p99)])
        }
        let now: [Int: [String: ReleaseSample]] = [0: ["v2": sample(150, 9, p99: 300, window: 100)], 1: ["v2": sample(80, 0, p99: 100, window: 50)],
                                                   2: ["v1": sample(1_000, 10, p99: 10, window: 300)], 3: ["v0": sample(500, 5, p99: 40, window: 100)]]
        let base: [Int: [String: ReleaseSample]] = [2: ["v1": sample(400, 4, p99: 0, window: 0)], 3: ["v0": sample(600, 0, p99: 0, window: 0)]]
        let o = FleetDeploy.observation(now: now, base: base, canary: [(0, "v2"), (1, "v2")], others: [(2, "v1"), (3, "v0")])
        #expect(o.canary == RequestCounts(requests: 230, errors: 9))
        #expect(o.stable == RequestCounts(requests: 1_100, errors: 11), "a router restarted on h4 (fewer requests than before): counted from zero")
        let w = o.windows[0]
        #expect(w.name == "10s" && w.canary.requests == 150 && w.canary.latency[99] == 0.3, "\(w.canary)")
        #expect(w.stable.requests == 400 && abs((w.stable.latency[99] ?? 0) - 0.0175) < 1e-9, "\(w.stable)")
        let lost = FleetDeploy.observation(now: [:], base: [:], canary: [(0, "v2")], others: [])
        #expect(lost.instances == 1 && lost.alive == 0)
    }

    @Test func aHealthyFleetCanaryIsPromotedToTheRest() async {
        let j = Journal()
        let outcome = await canary((1...4).map { FakeHost(name: "h\($0)", journal: j) })
        #expect(outcome.state == .succeeded && outcome.hosts.allSatisfy { $0.state == .activated })
        #expect(j.all.filter { $0.hasPrefix("activate") }.first == "activate h1 epoch 1")
    }

    /// `promote: manual`: a passed canary stops the deploy (`awaiting_promotion`, exit 0) with only the canary hosts
    /// switched; `deploy resume ID` then finds them serving the release already, judges nothing again and promotes the rest.
    @Test func aManuallyPromotedFleetCanaryWaitsAndAResumePromotesItWithoutJudgingAgain() async {
        let j = Journal()
        let hosts = (1...4).map { FakeHost(name: "h\($0)", journal: j) }
        let outcome = await canary(hosts, promote: .manual)
        #expect(outcome.state == .awaitingPromotion && outcome.exitCode == 0, "\(outcome.message)")
        #expect(outcome.message == "canary passed on h1; the other 3 host(s) wait: promote with slipway deploy resume fd-1, or undo with slipway deploy rollback fd-1")
        #expect(j.all.filter { $0.hasPrefix("activate") } == ["activate h1 epoch 1"] && outcome.hosts.map(\.state) == [.activated, .staged, .staged, .staged])
        #expect(hosts[0].reads.all.count > 1, "the canary was judged")

        var resumed = (1...4).map { FakeHost(name: "h\($0)", journal: j) }
        resumed[0].current = "v2"
        resumed[0].servesAlready = true
        let promoted = await canary(resumed, promote: .manual)
        #expect(promoted.state == .succeeded && promoted.hosts.allSatisfy { $0.current == "v2" }, "\(promoted.message)")
        #expect(resumed[0].reads.all.count <= 1, "not judged again: \(resumed[0].reads.all.count) reads")
    }

    @Test func batchesFollowTheStrategy() {
        var s = FleetSettings()
        s.batch = .count(2)
        #expect(FleetPlan.batches(hosts: 5, s) == [[0, 1], [2, 3], [4]])
        s.strategy = .allAtOnce
        #expect(FleetPlan.batches(hosts: 5, s) == [[0, 1, 2, 3, 4]])
        s.strategy = .canary
        #expect(FleetPlan.batches(hosts: 5, s) == [[0], [1, 2], [3, 4]], "the canary host alone, then batches")
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
