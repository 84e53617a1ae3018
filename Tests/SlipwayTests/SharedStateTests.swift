import Foundation
import SlipwayCore
@testable import SlipwayFleet
import SlipwayRuntime
import Synchronization
import Testing

/// The fleet's shared state against a real PostgreSQL 15 (each test in a database of its own): the lock, the epoch,
/// the records, the event log and the audit chain that several operators share.
@Suite(.serialized)
struct SharedStateTests {
    static let canRun = TestServices.hasPostgres

    /// A new database on the test server, as a URL.
    static func freshDatabase() async throws -> PostgresURL { try await freshDatabaseURL().url }

    /// A new database on the test server: its URL, parsed and as text.
    static func freshDatabaseURL() async throws -> (url: PostgresURL, text: String) {
        let base = try #require(TestServices.postgres, "SLIPWAY_TEST_PG_URL is not set")
        let name = "slipway_shared_\(UUID().uuidString.prefix(8).lowercased())"
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        // Through the postgres database, not slipway_test (a backup test swaps databases of its own, but never this one).
        let admin = base[..<base.lastIndex(of: "/")!] + "/postgres"
        let status = try await ProcessSpawner.run(argv: ["psql", "-X", "-q", String(admin), "-c", "CREATE DATABASE \(name)"], directory: "/",
                                                  environment: ProcessInfo.processInfo.environment, logFile: log)
        #expect(status == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        var url = try PostgresURL.parse(base, name: "SLIPWAY_TEST_PG_URL")
        url.database = name
        let text = base[..<base.lastIndex(of: "/")!] + "/" + name
        return (url, String(text))
    }

    /// `sql` through psql, as someone with the database's password could run it.
    static func psql(_ url: String, _ sql: String) async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("psql-\(UUID().uuidString.prefix(8)).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let status = try await ProcessSpawner.run(argv: ["psql", "-X", "-q", url, "-c", sql], directory: "/", environment: ProcessInfo.processInfo.environment, logFile: log)
        #expect(status == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// Who holds the lock, when refused.
    static func holder(_ claim: SharedState.Claim) -> String? {
        if case .refused(let holder, _) = claim { holder } else { nil }
    }

    @Test(.enabled(if: canRun, Comment(rawValue: TestServices.skipNote)))
    func oneControllerHoldsTheLockAndItIsFreedTheMomentItsConnectionDies() async throws {
        let url = try await Self.freshDatabase()
        let a = try await SharedState.connect(url, app: "shop"), b = try await SharedState.connect(url, app: "shop")
        let first = try await a.lock(environment: "production", holder: "alice", wait: .zero, floor: 5)
        #expect(first == .granted(epoch: 5), "the epoch starts at the floor the hosts give")
        // Held: refused at once, naming the holder; another environment is free.
        #expect(Self.holder(try await b.lock(environment: "production", holder: "bob", wait: .zero, floor: 1)) == "alice")
        #expect(try await b.lock(environment: "staging", holder: "bob", wait: .zero, floor: 1) == .granted(epoch: 1))
        // A waiter is woken when the holder's connection ends (a killed controller), long before its wait runs out.
        let said = Mutex<[String]>([])
        async let waited = b.lock(environment: "production", holder: "bob", wait: .seconds(60), floor: 1) { h in said.withLock { $0.append(h) } }
        _ = try await poll(within: .seconds(10)) { said.withLock { $0.isEmpty ? nil : true } }
        let before = ContinuousClock.now
        await a.close()
        let claim = try await waited
        #expect(ContinuousClock.now - before < .seconds(30), "woken by the release, not by the timeout")
        #expect(claim == .granted(epoch: 6), "every later epoch is higher")
        #expect(said.withLock { $0 } == ["alice"])
        // Given back, it is free; a waiter whose wait runs out is refused.
        await b.unlock(environment: "production")
        let c = try await SharedState.connect(url, app: "shop")
        #expect(try await c.lock(environment: "production", holder: "carol", wait: .zero, floor: 100) == .granted(epoch: 100), "never below what the hosts have seen")
        #expect(Self.holder(try await b.lock(environment: "production", holder: "bob", wait: .milliseconds(300), floor: 1)) == "carol", "the wait ran out")
        await b.close()
        await c.close()
    }

    @Test(.enabled(if: canRun, Comment(rawValue: TestServices.skipNote)))
    func deploymentsEventsAndTheAuditChainAreSharedAndAnEditBreaksTheChain() async throws {
        let (url, text) = try await Self.freshDatabaseURL()
        let a = try await SharedState.connect(url, app: "shop"), reader = try await SharedState.connect(url, app: "shop")
        // A deployment whose controller dies while it runs reads as interrupted; a finished one carries its hosts.
        try await a.begin(FleetDeploymentRecord(id: "fd-1-a", environment: "production", version: "v1", kind: .deploy, actor: "alice", holder: "alice@x",
                                                hosts: ["h1", "h2"]))
        #expect(try await reader.deployment("fd-1-a")?.state == "running")
        let outcome = FleetOutcome(deployment: "fd-1-a", environment: "production", version: "v1", state: .succeeded, phase: .activate, epoch: 3,
                                   hosts: [.init(host: "h1", state: .activated, current: "v1", message: "ok"), .init(host: "h2", state: .activated, current: "v1", message: "ok")],
                                   message: "v1 serves on 2 host(s)")
        try await a.finish(outcome)
        let done = try #require(try await reader.deployment("fd-1-a"))
        #expect(done.state == "succeeded" && done.epoch == 3 && done.results.map(\.current) == ["v1", "v1"] && done.finishedAt != nil)
        try await a.begin(FleetDeploymentRecord(id: "fd-2-b", environment: "production", version: "v2", kind: .deploy, actor: "alice", holder: "alice@x", hosts: ["h1"]))
        await a.close()
        // The server notices the closed connection a moment later.
        let list = try await poll(within: .seconds(10)) { () async throws -> [FleetDeploymentRecord]? in
            let l = try await reader.deployments(environment: "production", limit: 10)
            return l.first?.state == "interrupted" ? l : nil
        }
        #expect(list.map(\.id) == ["fd-2-b", "fd-1-a"] && list.map(\.number) == [2, 1], "\(list.map(\.state))")
        #expect(try await reader.deployments(environment: "staging", limit: 10).isEmpty)

        // Events: a follower sees what another controller appends as it commits.
        let writer = try await SharedState.connect(url, app: "shop"), follower = try await SharedState.connect(url, app: "shop")
        let seen = Mutex<[String]>([])
        let following = Task { try await follower.follow(environment: "production", after: 0) { e in seen.withLock { $0.append(e.summary) } } }
        let event = { (detail: String) in Event(environment: "production", payload: .fleet(.init(change: .progress, deployment: "fd-3", version: "v3", detail: detail))) }
        try await writer.append(event("one"))
        try await writer.append(event("two"))
        try await writer.append(Event(environment: "staging", payload: .fleet(.init(change: .progress, deployment: "fd-4", version: "v3", detail: "elsewhere"))))
        _ = try await poll(within: .seconds(10)) { seen.withLock { $0.count >= 2 ? true : nil } }
        try await writer.append(event("three"))
        _ = try await poll(within: .seconds(10)) { seen.withLock { $0.count >= 3 ? true : nil } }
        #expect(seen.withLock { $0 } == ["fd-3 v3: one", "fd-3 v3: two", "fd-3 v3: three"])
        following.cancel()
        let tail = try await reader.events(environment: "production", after: nil, limit: 2)
        #expect(tail.events.map(\.summary) == ["fd-3 v3: two", "fd-3 v3: three"] && tail.events.map(\.type) == ["fleet.progress", "fleet.progress"])

        // The audit chain: intact, then broken at the edited entry.
        for n in 1...3 {
            try await writer.audit(environment: "production", actor: "alice", action: "fleet.deploy", target: "production v\(n)", outcome: "succeeded", detail: "fd-\(n)")
        }
        #expect(try await reader.verifyAudit() == AuditVerification(ok: true, entries: 3, firstBad: nil))
        #expect(try await reader.auditEntries(environment: "production", since: nil, limit: 10).map(\.target) == ["production v3", "production v2", "production v1"])
        try await Self.psql(text, "UPDATE slipway_audit SET outcome = 'failed' WHERE id = 2")
        #expect(try await reader.verifyAudit() == AuditVerification(ok: false, entries: 2, firstBad: 2))
        for s in [reader, writer, follower] { await s.close() }
    }
}
