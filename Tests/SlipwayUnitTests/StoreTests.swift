import Foundation
import GRDB
import Synchronization
import Testing
@testable import SlipwayCore
@testable import SlipwayStore

struct StoreTests {
    func deployment(_ env: String = "production", version: String = "v2") -> DeploymentInfo {
        DeploymentInfo(id: 0, environment: env, version: version, previousVersion: "v1", kind: .deploy, strategy: .blueGreen,
                       state: .pending, actor: "ann", startedAt: Date(), logFile: "")
    }

    /// What the engine's lease does for a deployment: the lock and the deployment's first record in one transaction.
    func begin(_ store: SlipwayStore, _ d: DeploymentInfo, holder: String, detail: String = "", logFile: @escaping (Int64) -> String = { "\($0)" }) throws -> DeploymentInfo {
        try store.acquireLock(environment: d.environment, holder: holder, actor: Principal(name: d.actor, via: .socket), staleAfter: 30) { db, appended in
            try SlipwayStore.insertDeployment(db, d, detail: detail, appended: &appended, logFile: logFile)
        }
    }

    @Test func transitionsAreRecordedWithEvents() throws {
        let store = try SlipwayStore.inMemory()
        let d = try begin(store, deployment(), holder: "h", detail: "deploy v2") { "deploy-\($0).log" }
        #expect(d.logFile == "deploy-\(d.id).log")
        try store.transition(d.id, to: .starting, actor: "daemon", detail: "starting")
        let failed = try store.transition(d.id, to: .failed, actor: "daemon", detail: "refused", message: "not ready")
        #expect(failed.outcome == "failed" && failed.finishedAt != nil && failed.message == "not ready")
        #expect(try store.events(deployment: d.id).map(\.state) == [.pending, .starting, .failed])
        // The same transitions are in the event log, in order, with the deployment and its environment.
        let log = try store.events(after: 0)
        #expect(log.map(\.type) == ["deployment.transition", "deployment.transition", "deployment.transition"])
        #expect(log.allSatisfy { $0.deploymentId == d.id && $0.environment == "production" })
        #expect(log.map(\.id) == log.map(\.id).sorted() && Set(log.map(\.id)).count == 3)
        #expect(throws: SlipwayError.self) { try store.transition(d.id, to: .starting, actor: "x", detail: "") }
        #expect(try store.activeDeployments().isEmpty)
    }

    /// The periodic jobs read an environment's row several times a second and the store keeps it between writes: every
    /// way of writing it (a record saved, a change in a transaction, plain SQL) shows in the next read, and a write that
    /// failed leaves the row as it was.
    @Test func environmentReadsSeeEveryWrite() throws {
        let store = try SlipwayStore.inMemory()
        #expect(try store.environment("production").currentRelease == nil)
        var record = try store.environment("production")
        record.currentRelease = "v1"
        try store.save(record)
        #expect(try store.environment("production").currentRelease == "v1")
        #expect(try store.environment("production").currentRelease == "v1")  // again: from what was kept
        try store.environments.updateEnvironment("production") { $0.currentRelease = "v2" }
        #expect(try store.environment("production").currentRelease == "v2")
        try store.write { db in try db.execute(sql: "UPDATE environments SET current_release = 'v3' WHERE name = 'production'") }
        #expect(try store.environment("production").currentRelease == "v3")
        struct Refused: Error {}
        #expect(throws: SlipwayError.self) {
            try store.write { db in
                try db.execute(sql: "UPDATE environments SET current_release = 'v4' WHERE name = 'production'")
                throw Refused()
            }
        }
        #expect(try store.environment("production").currentRelease == "v3")
        #expect(try store.environment("staging").currentRelease == nil)
        // Names come from requests too: reading many does not keep them all.
        for i in 0..<300 { _ = try store.environment("asked-\(i)") }
        #expect(store.environmentCache.withLock { $0.count } <= 256)
        #expect(try store.environment("production").currentRelease == "v3")
    }

    @Test func secondDeploymentIsRefusedByPolicyNamingTheHolder() throws {
        let store = try SlipwayStore.inMemory()
        let first = try begin(store, deployment(), holder: "deploy of v2 by ann")
        do {
            _ = try begin(store, deployment(version: "v3"), holder: "deploy of v3 by bob")
            Issue.record("the second deployment was not refused")
        } catch let error as SlipwayError {
            #expect(error.code == .policy && error.exitCode == 3)
            #expect(error.message.contains("deploy of v2 by ann") && error.message.contains("deployment \(first.id)"))
        }
        #expect(try store.deployments().count == 1)  // the refused one changed nothing
        // Another environment is independent.
        _ = try begin(store, deployment("staging"), holder: "x")
    }

    @Test func staleLockIsTakenOverAndAudited() throws {
        let store = try SlipwayStore.inMemory()
        let past = Date().addingTimeInterval(-120)
        let ann = Principal(name: "ann", via: .socket), bob = Principal(name: "bob", via: .socket)
        try store.acquireLock(environment: "production", holder: "dead daemon", actor: ann, staleAfter: 30, now: past) { _, _ in }
        try store.acquireLock(environment: "production", holder: "new daemon", actor: bob, staleAfter: 30) { _, _ in }
        #expect(try store.locks().first?.holder == "new daemon")
        let audit = try store.access.auditEntries()
        #expect(audit.first?.action == "lock.takeover" && audit.first?.detail.contains("dead daemon") == true)
        #expect(try store.events(after: 0).map(\.type) == ["lock.takeover"])
        // The old holder can neither renew nor release what it lost.
        #expect(try store.heartbeat(environment: "production", holder: "dead daemon") == false)
        #expect(try store.releaseLock(environment: "production", holder: "dead daemon") == nil)
        #expect(try store.locks().first?.holder == "new daemon")
    }

    @Test func auditChainDetectsTampering() throws {
        let store = try SlipwayStore.inMemory()
        for i in 0..<5 { try store.audit(Principal(name: "ann", via: .socket, onBehalfOf: i % 2 == 0 ? "ticket-\(i)" : nil), action: "deploy", target: "production/v\(i)", outcome: "ok") }
        #expect(try store.access.verifyAuditChain().ok)
        try store.db.write { db in try db.execute(sql: "UPDATE audit SET actor = 'mallory' WHERE id = 3") }
        #expect(try store.access.verifyAuditChain().firstBad == 3)
    }

    @Test func databaseFileUsesWAL() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-store-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SlipwayStore(path: dir + "/state.db")
        let mode = try store.db.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }
}
