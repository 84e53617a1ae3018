import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayServer
import SlipwayStore
import Testing
@testable import SlipwayEngine

/// One lease per environment and operation: heartbeated while the operation runs, released only by
/// its holder, on every path.
@Suite(.serialized)
struct LeaseTests {
    static let ann = Principal(name: "ann", via: .socket)

    @Test func aLeaseIsReleasedWhenItsOperationThrows() async throws {
        let store = try SlipwayStore.inMemory()
        let (lease, _) = try Lease.acquire(store, environment: "production", holder: "down by ann", actor: Self.ann,
                                           settings: LeaseSettings(), logger: quietLogger()) { _, _ in }
        await #expect(throws: SlipwayError.self) {
            try await lease.hold { () async throws -> Void in throw SlipwayError.failed("a step of 'down' failed") }
        }
        #expect(try store.locks().isEmpty, "the lock leaked")
    }

    @Test func aLeaseReleasesOnlyItsOwnLock() async throws {
        let store = try SlipwayStore.inMemory()
        // A lease whose heartbeat stopped long enough is stale; another operation takes the lock over.
        let stale = LeaseSettings(ttl: 0, heartbeat: .seconds(60))
        let (first, _) = try Lease.acquire(store, environment: "production", holder: "deploy of v2", actor: Self.ann, settings: stale,
                                           logger: quietLogger()) { _, _ in }
        let (second, _) = try Lease.acquire(store, environment: "production", holder: "scale by bob", actor: Self.ann, settings: stale,
                                            logger: quietLogger()) { _, _ in }
        first.release()
        #expect(try store.locks().map(\.holder) == ["scale by bob"], "the first operation deleted a lock it no longer held")
        second.release()
        #expect(try store.locks().isEmpty)
    }

    @Test func theLockCheckIsAPureDecisionWithItsTime() {
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        let lock = LockInfo(environment: "production", holder: "deploy of v2 by ann", deploymentId: 7, acquiredAt: t0, heartbeatAt: t0.addingTimeInterval(10))
        let request = PolicyRequest(operation: .deploy, environment: "production", version: "v3", actor: Self.ann)
        let policy = Policy()
        guard case .refuse(let why) = policy.evaluate(request, PolicyFacts(lock: lock, lockTTL: 30, now: t0.addingTimeInterval(39))) else {
            Issue.record("a live lock did not refuse")
            return
        }
        #expect(why.rule == "lock" && why.reason.contains("deploy of v2 by ann") && why.reason.contains("deployment 7"))
        #expect(why.passesAt == t0.addingTimeInterval(40))
        #expect(policy.evaluate(request, PolicyFacts(lock: lock, lockTTL: 30, now: t0.addingTimeInterval(40))) == .allow)
        #expect(policy.evaluate(request, PolicyFacts(lock: nil, lockTTL: 30, now: t0)) == .allow)
    }

    @Test func aReleaseRememberedAsBadNeedsForce() {
        let facts = PolicyFacts(lock: nil, lockTTL: 30, now: Date(), badReleases: ["v2": "the watch: a burst of errors"])
        let deploy = PolicyRequest(operation: .deploy, environment: "production", version: "v2", actor: Self.ann)
        guard case .refuse(let why) = Policy().evaluate(deploy, facts) else { Issue.record("a bad release was allowed"); return }
        #expect(why.rule == "bad_release" && why.reason.contains("a burst of errors") && why.reason.contains("--force"))
        var forced = deploy
        forced.force = true
        #expect(Policy().evaluate(forced, facts) == .allow)
        #expect(Policy().evaluate(PolicyRequest(operation: .deploy, environment: "production", version: "v3", actor: Self.ann), facts) == .allow)
        // A rollback to it is the operator's call: not this rule's business.
        #expect(Policy().evaluate(PolicyRequest(operation: .rollback, environment: "production", version: "v2", actor: Self.ann), facts) == .allow)
    }

    /// `scale` waits on a health gate far longer than a lock lives without a heartbeat: its lease keeps the
    /// lock alive, so a deploy meanwhile is refused (exit 3) instead of taking the environment over.
    @Test(.timeLimit(.minutes(2)))
    func scaleKeepsItsLockAliveThroughALongHealthGate() async throws {
        let s = try Sandbox(deadline: "10s")
        try await s.withDaemon { daemon in
            daemon.engine.setLeaseSettings(LeaseSettings(ttl: 1, heartbeat: .milliseconds(100)))
            // The first two instances are ready at once; the one the scale adds warms up for 3 s.
            _ = try await s.release("v1", readyAfterMs: 3000, settings: "\"slow_from_slot\": 2")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let scaling = Task { () async throws -> EnvironmentStatus in
                try await s.client.post("/v1/scale", ScaleRequest(environment: nil, instances: 3, actor: "t"))
            }
            // Until the lock has outlived its TTL twice over while the new instances are still warming up.
            let lock = try await poll(within: .seconds(10)) { () async throws -> LockInfo? in
                guard let l = try await s.status().lock, l.holder.hasPrefix("scale by"), Date().timeIntervalSince(l.acquiredAt) > 2 else { return nil }
                return l
            }
            #expect(lock.heartbeatAt.timeIntervalSince(lock.acquiredAt) > 1, "the lock was not heartbeated")
            do {
                _ = try await s.deploy("v1")
                Issue.record("a deploy took over the environment in the middle of a scale")
            } catch let error as SlipwayError {
                #expect(error.code == .policy && error.exitCode == 3, "\(error)")
                #expect(error.message.contains("scale by"), "\(error.message)")
            }
            let scaled = try await scaling.value
            #expect(scaled.instances.filter { $0.release == "v1" && $0.ready }.count == 3)
            #expect(try await s.status().lock == nil)
        }
    }

    /// A scale whose new instances never pass the gate leaves the wanted count as it was: the next deploy
    /// starts as many instances as before.
    @Test(.timeLimit(.minutes(2)))
    func aFailedScaleKeepsTheInstanceCount() async throws {
        let s = try Sandbox(deadline: "5s")
        try await s.withDaemon { _ in
            // The first two instances are ready at once; the ones a scale adds warm up for 1.5 s.
            _ = try await s.release("v1", readyAfterMs: 1500, settings: "\"slow_from_slot\": 2")
            _ = try await s.release("v2")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            // The health deadline shrinks below v1's warm-up: new v1 instances cannot become ready in time.
            let yaml = try String(contentsOfFile: s.dir + "/slipway.yml", encoding: .utf8)
            try yaml.replacingOccurrences(of: "deadline: 5s", with: "deadline: 1s").write(toFile: s.dir + "/slipway.yml", atomically: true, encoding: .utf8)
            await #expect(throws: SlipwayError.self) {
                let _: EnvironmentStatus = try await s.client.post("/v1/scale", ScaleRequest(environment: nil, instances: 4, actor: "t"))
            }
            #expect(try await s.status().instances.filter { $0.release == "v1" }.count == 2, "the failed instances were stopped")
            try yaml.write(toFile: s.dir + "/slipway.yml", atomically: true, encoding: .utf8)
            #expect(try await s.outcome(try await s.deploy("v2")).state == .succeeded)
            #expect(try await s.status().instances.filter { $0.release == "v2" }.count == 2, "a failed scale changed the instance count")
        }
    }

    /// A deploy that ends after its lock was released by hand and taken by another operation must not
    /// delete that operation's lock.
    @Test(.timeLimit(.minutes(2)))
    func aDeployDoesNotReleaseALockItNoLongerHolds() async throws {
        let s = try Sandbox(deadline: "5s")
        try await s.withDaemon { _ in
            // v1's first two instances are ready at once; the one a scale adds warms up for 3 s.
            _ = try await s.release("v1", readyAfterMs: 3000, settings: "\"slow_from_slot\": 2")
            _ = try await s.release("v2", readyAfterMs: 1000)
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let d2 = try await s.deploy("v2")
            // An operator frees the environment (say, thinking the deploy hung) and scales it.
            let released: [LockInfo] = try await s.client.post("/v1/locks/release", EnvironmentRequest(environment: nil, actor: "t"))
            #expect(released.first?.deploymentId == d2.id)
            let scaling = Task { () async throws -> EnvironmentStatus in
                try await s.client.post("/v1/scale", ScaleRequest(environment: nil, instances: 3, actor: "t"))
            }
            _ = try await poll(within: .seconds(5)) { try await s.status().lock?.holder.hasPrefix("scale by") == true ? true : nil }
            #expect(try await s.outcome(d2).state == .succeeded)
            // v2's deploy has ended; the scale (still warming v1 instances up) holds the lock.
            #expect(try await s.status().lock?.holder.hasPrefix("scale by") == true, "the deploy released the scale's lock")
            // The deploy retired the v1 instances the scale was warming up; the scale fails, and that is not the point here.
            _ = try? await scaling.value
        }
    }
}
