import Foundation
import GRDB
import Hummingbird
@testable import SlipwayCore
import Testing
@testable import SlipwayEngine
@testable import SlipwayServer
@testable import SlipwayStore

/// The second half's defects, each as the pure decision or store behaviour it came down to.
struct HardeningTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func d(_ id: Int64, _ version: String, _ kind: DeploymentKind = .deploy, _ state: DeploymentState, previous: String?, actor: String = "ann",
                  ended: TimeInterval = 0, reason: DeploymentInfo.EndReason? = nil, undoes: Int64? = nil) -> DeploymentInfo {
        var d = DeploymentInfo(id: id, environment: "production", version: version, previousVersion: previous, kind: kind, strategy: .blueGreen,
                               state: state, actor: actor, startedAt: t0 + ended - 30, finishedAt: t0 + ended, logFile: "")
        d.endReason = reason
        d.undoes = undoes
        return d
    }

    /// The watch's rollback names the release that went bad (the one it replaced) and the deployment that
    /// brought it, not the release serving afterwards; a person's abort or rollback is no automatic rollback.
    @Test func anAutomaticRollbackNamesTheReleaseThatWentBad() throws {
        let history = [  // newest first, as the store lists them
            Self.d(4, "v2", .rollback, .succeeded, previous: "v3", actor: "watch", ended: 60, undoes: 3),
            Self.d(3, "v3", .deploy, .succeeded, previous: "v2", ended: 20),
            Self.d(2, "v2", .deploy, .succeeded, previous: "v1", ended: 10),
        ]
        let r = try #require(AutomaticRollback.latest(in: history, now: Self.t0 + 70))
        #expect(r.release == "v3" && r.deploymentId == 3 && r.rollback.id == 4 && r.since == Self.t0 + 20, "\(r)")
        #expect(AutomaticRollback.latest(in: history, now: Self.t0 + 700) == nil, "older than ten minutes")

        let reverted = [Self.d(5, "v4", .deploy, .rolledBack, previous: "v2", ended: 90, reason: .reverted)] + history
        let own = try #require(AutomaticRollback.latest(in: reverted, now: Self.t0 + 100))
        #expect(own.release == "v4" && own.deploymentId == 5 && own.rollback.id == 5)

        let aborted = [Self.d(5, "v4", .deploy, .rolledBack, previous: "v2", ended: 90, reason: .aborted)]
        #expect(AutomaticRollback.latest(in: aborted, now: Self.t0 + 100) == nil, "canary abort by a person")
        let byHand = [Self.d(6, "v1", .rollback, .succeeded, previous: "v2", actor: "dana", ended: 90)]
        #expect(AutomaticRollback.latest(in: byHand, now: Self.t0 + 100) == nil, "slipway rollback by a person")
        let interrupted = [Self.d(7, "v4", .deploy, .rolledBack, previous: "v2", ended: 90, reason: .interrupted)]
        #expect(AutomaticRollback.latest(in: interrupted, now: Self.t0 + 100) == nil, "a daemon restart is not the release going bad")
    }

    /// A deploy rolled back (by a gate, the analysis or a person's abort) notifies in the rollback category.
    @Test func aRolledBackDeployNotifiesAsARollback() throws {
        let e = Event(id: 9, environment: "production", deploymentId: 5,
                      payload: .deployment(.init(change: .transition, state: .rolledBack, version: "v4", kind: .deploy, detail: "canary aborted by dana")))
        let m = try #require(NotificationMessage(e))
        #expect(m.category == .rollback && m.text == "production: deploy of v4 rolled back: canary aborted by dana", "\(m)")
    }

    /// Control flow follows types, not wording: a reworded stopping error is still one, across the API's JSON too.
    @Test func aRewordedErrorKeepsItsReason() throws {
        var stopping = SlipwayError.daemonStopping
        stopping.message = "shutting down, see you at the next start"
        let decoded = try SlipwayJSON.decoder().decode(SlipwayError.self, from: SlipwayJSON.encoder().encode(stopping))
        #expect(decoded.reason == .daemonStopping && decoded.code == .unavailable)
        #expect(SlipwayError(.unavailable, SlipwayError.daemonStopping.message).reason == nil, "the same words without the reason are no stop")
    }

    /// No traffic is inconclusive (not a verdict on the release), whatever its line says; the JSON spelling stays `fail`.
    @Test func tooLittleTrafficIsInconclusiveAndSpelledAsBefore() throws {
        var judge = CanaryJudge(settings: CanaryJudgeTests.settings([CanaryStep(weight: 10)], maxStep: .seconds(2)),
                                analysis: try CanaryJudgeTests.analysis(["error_rate > baseline + 5%"], minRequests: 40))
        let (decision, analysis) = judge.observe(CanaryObservation(canary: RequestCounts(), stable: RequestCounts(requests: 100)),
                                                 step: 0, stepStartedAt: Self.t0, at: Self.t0 + 3)
        guard case .inconclusive = decision else { Issue.record("\(decision)"); return }
        let json = String(decoding: try SlipwayJSON.encoder().encode(analysis), as: UTF8.self)
        #expect(json.contains("\"decision\":\"fail\""), "\(json)")
        var paused = analysis
        paused.decision = .pause
        #expect(String(decoding: try SlipwayJSON.encoder().encode(paused), as: UTF8.self).contains("\"decision\":\"pause\""))
    }

    /// The sequential test resumes from the evidence saved with the step: after a restart it neither forgets
    /// what it saw nor counts the totals again.
    @Test func theSequentialTestResumesFromItsSavedEvidence() throws {
        let settings = CanaryJudgeTests.settings([CanaryStep(weight: 25, pause: .manual)])
        let analysis = try CanaryJudgeTests.analysis(["error_rate > baseline + 5%"], minRequests: 40)
        func observe(_ judge: inout CanaryJudge, _ canary: RequestCounts, at t: TimeInterval) -> RuleOutcome? {
            judge.observe(CanaryObservation(canary: canary, stable: RequestCounts(requests: 2000, errors: 20)), step: 0,
                          stepStartedAt: Self.t0, at: Self.t0 + t).1.verdicts.first
        }
        var running = CanaryJudge(settings: settings, analysis: analysis)
        _ = observe(&running, RequestCounts(requests: 60, errors: 3), at: 1)
        // The evidence as the environment's row keeps it (through SQLite), then the daemon restarts.
        let store = try SlipwayStore.inMemory()
        var record = try store.environment("production")
        record.canaryEvidence = running.evidence
        try store.save(record)
        var resumed = CanaryJudge(settings: settings, analysis: analysis)
        resumed.restore(try #require(try store.environment("production").canaryEvidence))
        var forgetful = CanaryJudge(settings: settings, analysis: analysis)
        let next = RequestCounts(requests: 90, errors: 5)
        let expected = try #require(observe(&running, next, at: 2)?.llr)
        #expect(observe(&resumed, next, at: 2)?.llr == expected, "resumed where it stood")
        #expect(observe(&forgetful, next, at: 2)?.llr != expected, "a fresh test counts the totals as new evidence")
    }

    /// Lead time comes from the commit time recorded with the deployment, so pruning the release changes nothing.
    @Test func leadTimeOutlivesThePrunedRelease() {
        var deploy = Self.d(1, "v1", .deploy, .succeeded, previous: nil, ended: 3600)
        deploy.commitTime = Self.t0
        let report = DORAReport.compute(environment: "production", deployments: [deploy], incidents: [], commitTimes: [:],
                                        from: Self.t0 - 86_400, to: Self.t0 + 86_400)
        #expect(report.leadTime.value == 3600 && report.leadTime.deployments == [1], "\(report.leadTime)")
    }

    /// A failed deploy's incident is known by its type, not by its trigger's wording.
    @Test func aFailedDeploysIncidentIsFoundByItsCause() {
        var incident = IncidentInfo(id: 1, environment: "production", title: "deploy failed", severity: .p2, trigger: "reworded", openedAt: Self.t0)
        incident.cause = .failedDeployment
        incident.causeDeploymentId = 6
        #expect(DORAReport.opened(incident, byFailed: 6) && !DORAReport.opened(incident, byFailed: 7))
        let legacy = IncidentInfo(id: 2, environment: "production", title: "x", severity: .p2, trigger: "failed deployment 6: boom", openedAt: Self.t0)
        #expect(DORAReport.opened(legacy, byFailed: 6), "incidents stored before causes were typed")
    }

    /// A failed audit write is thrown and counted, and an audited change is not made without its entry.
    @Test func aFailedAuditWriteFailsTheChangeAndIsCounted() throws {
        let store = try SlipwayStore.inMemory()
        try store.db.write { db in try db.execute(sql: "CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk full'); END") }
        let ann = Principal(name: "ann", via: .socket)
        #expect(throws: SlipwayError.self) { try store.audit(ann, action: "deploy", target: "production/v1", outcome: "ok") }
        let page = MaintenanceMode(mode: .on, html: "<p>back soon</p>", retryAfterS: 60, holdLimitMs: 0, since: 0, actor: "ann")
        #expect(throws: SlipwayError.self) {
            try store.environments.setMaintenance(page, environment: "production", audit: AuditNote(ann, action: "maintenance.on", outcome: "ok", detail: "503 page"))
        }
        #expect(try store.environment("production").maintenance == nil, "the change was not made without its audit entry")
        #expect(store.writeFailures == 2)
        try store.db.write { db in try db.execute(sql: "CREATE TRIGGER no_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END") }
        #expect(throws: SlipwayError.self) { try store.record(Event(environment: "production", payload: .lock(.init(change: .lost, holder: "x", detail: "")))) }
        #expect(store.writeFailures == 3)
    }

    /// The notifications' log keeps the lines of the retention period and loses the older ones.
    @Test func theNotificationsLogKeepsOnlyTheRetentionPeriod() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("notifications-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let old = DeployLog.stamp(Self.t0 - 40 * 86_400), recent = DeployLog.stamp(Self.t0 - 86_400)
        try "\(old) webhook-1 deploy.succeeded P3 attempt 1: delivered\n\(recent) webhook-2 alert.firing P1 attempt 1: delivered\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        try DeployLog.dropLines(of: path, before: Self.t0 - 30 * 86_400)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "\(recent) webhook-2 alert.firing P1 attempt 1: delivered\n")
    }

    /// Providers take https:// (Prometheus behind TLS), with an optional `ca`; a bad one names the key.
    @Test func providersTakeHTTPSWithAnOptionalCA() throws {
        let https = try #require(HTTPURL("https://prom.example.com/prom"))
        #expect(https.tls && https.port == 443 && https.path == "/prom" && https.description == "https://prom.example.com:443/prom")
        #expect(HTTPURL("http://127.0.0.1:9090")?.tls == false)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("providers-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func load(_ provider: String) throws -> SlipwayConfig {
            try """
                app: demo
                process: { command: "./app --port $PORT" }
                analysis:
                  providers:
                    - \(provider)
                """.write(toFile: dir + "/slipway.yml", atomically: true, encoding: .utf8)
            return try ConfigLoader.load(path: dir + "/slipway.yml")
        }
        try "not checked here\n".write(toFile: dir + "/ca.pem", atomically: true, encoding: .utf8)
        let cfg = try load(#"{ prometheus: { url: "https://prom:9443", query: "up", ca: ca.pem }, fail_if: "value > 1" }"#)
        let p = try #require(cfg.environments.values.first?.analysis?.providers.first)
        #expect(p.ca == dir + "/ca.pem")
        do {
            _ = try load(#"{ web: { url: "https://check", ca: missing.pem } }"#)
            Issue.record("a missing CA file was accepted")
        } catch {
            #expect("\(error)".contains("slipway.yml:5:") && "\(error)".contains("analysis.providers[0].web.ca") && "\(error)".contains("missing.pem"), "\(error)")
        }
    }

    /// An answer that cannot be encoded (a NaN has no JSON) is the daemon's failure, never a 200 with `null`.
    @Test func anUnencodableAnswerIsAServerError() {
        let response = APIResponse.json(["value": Double.nan])
        #expect(response.status == .internalServerError)
    }

    /// Only the lease writes the lock table (`SlipwayStore+Locks.swift` holds its primitives; `Lease` calls them):
    /// an approval that wrote it directly could take a lock no heartbeat keeps and no release frees.
    @Test func nothingButTheLeaseWritesTheLockTable() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 100, "the sources are where the test expects them: \(sources.path)")
        var writers: [String] = []
        // `LockRow` maps the table's row to a `LockInfo` and back; only `SlipwayStore+Locks.swift` uses it to write.
        for file in files where !file.hasSuffix("SlipwayStore+Locks.swift") && !file.hasSuffix("Rows/LockRow.swift") {
            let text = try String(contentsOfFile: sources.path + "/" + file, encoding: .utf8)
            for pattern in ["UPDATE locks", "INTO locks", "DELETE FROM locks", "LockInfo("] where text.contains(pattern) { writers.append("\(file): \(pattern)") }
        }
        #expect(writers.isEmpty, "the lock table is written outside the lease: \(writers)")
    }
}
