import Foundation
import GRDB
import Testing
@testable import SlipwayCore
@testable import SlipwayStore

struct StoreTests {
    func deployment(_ env: String = "production", version: String = "v2") -> DeploymentInfo {
        DeploymentInfo(id: 0, environment: env, version: version, previousVersion: "v1", kind: .deploy, strategy: .blueGreen,
                       state: .pending, actor: "ann", startedAt: Date(), logFile: "")
    }

    @Test func transitionsAreRecordedWithEvents() throws {
        let store = try SlipwayStore.inMemory()
        let d = try store.beginDeployment(deployment(), holder: "h", detail: "deploy v2") { "deploy-\($0).log" }
        #expect(d.logFile == "deploy-\(d.id).log")
        try store.transition(d.id, to: .starting, actor: "daemon", detail: "starting")
        let failed = try store.transition(d.id, to: .failed, actor: "daemon", detail: "refused", message: "not ready")
        #expect(failed.outcome == "failed" && failed.finishedAt != nil && failed.message == "not ready")
        #expect(try store.events(deployment: d.id).map(\.state) == [.pending, .starting, .failed])
        #expect(throws: SlipwayError.self) { try store.transition(d.id, to: .starting, actor: "x", detail: "") }
        #expect(try store.activeDeployments().isEmpty)
    }

    @Test func secondDeploymentIsRefusedByPolicyNamingTheHolder() throws {
        let store = try SlipwayStore.inMemory()
        let first = try store.beginDeployment(deployment(), holder: "deploy of v2 by ann", detail: "") { "\($0)" }
        do {
            _ = try store.beginDeployment(deployment(version: "v3"), holder: "deploy of v3 by bob", detail: "") { "\($0)" }
            Issue.record("the second deployment was not refused")
        } catch {
            #expect(error.code == .policy && error.exitCode == 3)
            #expect(error.message.contains("deploy of v2 by ann") && error.message.contains("deployment \(first.id)"))
        }
        #expect(try store.deployments().count == 1)  // the refused one changed nothing
        // Another environment is independent.
        _ = try store.beginDeployment(deployment("staging"), holder: "x", detail: "") { "\($0)" }
    }

    @Test func staleLockIsTakenOverAndAudited() throws {
        let store = try SlipwayStore.inMemory()
        let past = Date().addingTimeInterval(-120)
        try store.acquireLock(environment: "production", holder: "dead daemon", deploymentId: 7, actor: "ann", now: past)
        try store.acquireLock(environment: "production", holder: "new daemon", deploymentId: nil, actor: "bob")
        #expect(try store.locks().first?.holder == "new daemon")
        let audit = try store.auditEntries()
        #expect(audit.first?.action == "lock.takeover" && audit.first?.detail.contains("dead daemon") == true)
    }

    @Test func auditChainDetectsTampering() throws {
        let store = try SlipwayStore.inMemory()
        for i in 0..<5 { store.audit(actor: "ann", action: "deploy", target: "production/v\(i)", outcome: "ok") }
        #expect(try store.verifyAuditChain() == nil)
        try store.db.write { db in try db.execute(sql: "UPDATE audit SET actor = 'mallory' WHERE id = 3") }
        #expect(try store.verifyAuditChain() == 3)
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
