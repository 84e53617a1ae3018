import Crypto
import Foundation
import Hummingbird
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import Testing

/// A local receiver that records what arrives and checks webhook signatures as the README tells receivers to.
actor Inbox {
    struct Delivery: Sendable { var path: String; var headers: [String: String]; var body: String; var signatureValid: Bool; var fresh: Bool }
    var deliveries: [Delivery] = []
    func add(_ d: Delivery) { deliveries.append(d) }

    /// Serves POSTs on 127.0.0.1:`port` until the task is cancelled.
    static func serve(_ inbox: Inbox, port: Int, secret: String) -> Task<Void, any Error> {
        let router = Router()
        router.post("/**") { request, _ -> HTTPResponse.Status in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            var headers: [String: String] = [:]
            for f in request.headers { headers[f.name.canonicalName] = f.value }
            let ts = headers["x-slipway-timestamp"] ?? ""
            let expected = "sha256=" + HMAC<SHA256>.authenticationCode(for: Data("\(ts).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
                .map { String(format: "%02x", $0) }.joined()
            let fresh = Double(ts).map { abs(Date().timeIntervalSince1970 - $0) < 300 } ?? false
            await inbox.add(Delivery(path: request.uri.path, headers: headers, body: body, signatureValid: headers["x-slipway-signature"] == expected, fresh: fresh))
            return .noContent
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: quietLogger())
        return Task { try await app.runService(gracefulShutdownSignals: []) }
    }
}

@Suite(.serialized)
struct NotificationTests {
    @Test func eventsBecomeMessagesWithCategoryAndSeverity() throws {
        let firing = Event(id: 7, environment: "production", payload: .alert(.init(change: .firing, name: "high-error-rate", severity: .p0,
                                                                                  summary: "error_rate 48.0% (> 5.0%)", runbook: "https://wiki/e")))
        let m = try #require(NotificationMessage(firing))
        #expect(m.category == .alert && m.severity == .p0)
        #expect(m.text == "[P0] production: high-error-rate firing: error_rate 48.0% (> 5.0%) · runbook: https://wiki/e")
        let pending = Event(environment: "production", payload: .alert(.init(change: .pending, name: "x", severity: .p0, summary: "")))
        #expect(NotificationMessage(pending) == nil, "pending is not news yet")
        let pageOnCall = NotifySettings(channel: .command(["./page"]), categories: [.alert], minSeverity: .p1)
        #expect(m.wanted(by: pageOnCall))
        let p2 = Event(environment: "production", payload: .alert(.init(change: .firing, name: "backup-failed", severity: .p2, summary: "")))
        #expect(try #require(NotificationMessage(p2)).wanted(by: pageOnCall) == false)
        let failedBackup = Event(environment: "production", payload: .backup(.init(change: .failed, backupId: nil, ok: false, detail: "no such file")))
        let b = try #require(NotificationMessage(failedBackup))
        #expect(b.category == .backup && b.severity == .p2 && b.text == "production: backup failed: no such file")
        let deployed = Event(environment: "staging", deploymentId: 3, payload: .deployment(.init(change: .transition, state: .succeeded, version: "v2", kind: .deploy, detail: "v2 is serving staging")))
        #expect(NotificationMessage(deployed)?.category == .deploy && NotificationMessage(deployed)?.wanted(by: pageOnCall) == false)
        #expect(NotificationInfo.backoff(afterFailures: 1) == 2 && NotificationInfo.backoff(afterFailures: 3) == 8 && NotificationInfo.backoff(afterFailures: 30) == 3600)
    }

    @Test func notifyConfigIsCheckedKeyByKey() {
        let yaml = """
            app: shop
            process: { command: x }
            notify:
              - { webhook: "https://hooks.example/slipway", secret: "hunter2 value", events: [deploy, lunch] }
              - { slack: { url_secret: SLACK_URL }, webhook: "https://x", events: [alert] }
              - { command: ["./page-oncall"], events: [incident], min_severity: P7 }
            """
        do {
            _ = try ConfigLoader.parse(yaml: yaml, file: "slipway.yml", directory: "/tmp")
            Issue.record("accepted")
        } catch {
            let text = error.description
            #expect(text.contains("notify[0].secret: expected the NAME of a secret") && !text.contains("hunter2"), "\(text)")
            #expect(text.contains("notify[0].events: expected some of deploy, rollback, alert, incident, backup, approval, got 'lunch'"), "\(text)")
            #expect(text.contains("notify[1]: expected exactly one of webhook"), "\(text)")
            #expect(text.contains("notify[2].min_severity: expected P0, P1, P2 or P3, got 'P7'"), "\(text)")
        }
    }

    /// The outbox across a `kill -9`: what failed to go out before is delivered after the restart, each
    /// notification once, signed; Slack gets its format and only what its min_severity lets through.
    @Test(.timeLimit(.minutes(2)))
    func theOutboxSurvivesAKilledDaemonAndDeliversEachNotificationOnce() async throws {
        let receiver = try PortAllocator.freePort()
        let hookSecret = "hook-secret-\(UUID().uuidString.prefix(8))", slackToken = "T000/B000/\(UUID().uuidString.prefix(12))"
        let s = try Sandbox(extra: """
            watch: 0s
            alerts:
              - { name: disk-check, expr: "disk_free < 100%", severity: P1 }
            notify:
              - { webhook: "http://127.0.0.1:\(receiver)/hook", secret: HOOK_SECRET, events: [deploy, alert, backup], group_wait: 0s }
              - { slack: { url_secret: SLACK_URL }, events: [alert], min_severity: P1, group_wait: 0s }
            \(Sandbox.sqliteBackup(""))
            """)
        defer { s.removeFiles() }
        try FileManager.default.createDirectory(atPath: s.config.root, withIntermediateDirectories: true)
        try "HOOK_SECRET=\(hookSecret)\nSLACK_URL=http://127.0.0.1:\(receiver)/services/\(slackToken)\n"
            .write(toFile: s.config.root + "/secrets.env", atomically: true, encoding: .utf8)
        func startDaemon() async throws -> ProcessSpawner.Spawned {
            let child = try ProcessSpawner.spawn(argv: [TestBinaries.slipway, "server", "--config", s.dir + "/slipway.yml", "--log-level", "warning"],
                                                 directory: s.dir, environment: ProcessInfo.processInfo.environment, logFile: s.dir + "/daemon.log")
            try await s.waitForDaemon()
            return child
        }
        var daemon = try await startDaemon()
        let inbox = Inbox()
        var server: Task<Void, any Error>?
        do {
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            _ = try await s.cli(["backup", "create"])  // fails: the database does not exist
            // The receiver is down: every notification has failed once and waits for its retry.
            let queued = try await poll(within: .seconds(20)) { () async throws -> [NotificationInfo]? in
                let all: [NotificationInfo] = try await s.client.get("/v1/notifications")
                let types = Set(all.map(\.eventType))
                guard ["deployment.transition", "backup.failed"].allSatisfy(types.contains), all.filter({ $0.eventType == "alert.firing" }).count >= 3,
                      all.allSatisfy({ $0.attempts >= 1 && $0.state == .pending }) else { return nil }
                return all
            }
            kill(daemon.pid, SIGKILL)
            _ = ProcessInspector.isAlive(pid: daemon.pid, startTime: daemon.startTime)
            server = Inbox.serve(inbox, port: receiver, secret: hookSecret)
            daemon = try await startDaemon()
            let sent = try await poll(within: .seconds(30)) { () async throws -> [NotificationInfo]? in
                let all: [NotificationInfo] = try await s.client.get("/v1/notifications")
                return all.count >= queued.count && all.allSatisfy({ $0.state == .sent }) ? all : nil
            }
            // Let any stray duplicate arrive before counting.
            try await Task.sleep(for: .seconds(1))
            let got = await inbox.deliveries
            let hooks = got.filter { $0.path == "/hook" }, slack = got.filter { $0.path.hasPrefix("/services/") }
            let keys = hooks.map { $0.headers["x-slipway-delivery"] ?? "" }
            #expect(keys.count == Set(keys).count, "a notification arrived twice: \(keys)")
            #expect(Set(keys) == Set(sent.filter { $0.channel.hasPrefix("webhook-") }.map(\.key)), "every queued notification arrived: \(keys) vs \(sent.map(\.key))")
            #expect(hooks.count + slack.count == got.count && slack.count == sent.filter { $0.channel.hasPrefix("slack-") }.count)
            #expect(!hooks.isEmpty && hooks.allSatisfy { $0.signatureValid && $0.fresh }, "webhook signatures: \(hooks.map(\.headers))")
            #expect(hooks.allSatisfy { $0.body.contains("\"id\":\"\($0.headers["x-slipway-delivery"] ?? "?")\"") }, "the body names its idempotency key")
            #expect(Set(hooks.compactMap { $0.headers["x-slipway-event"] }) == ["deployment.transition", "backup.failed", "alert.firing"])
            #expect(slack.count == 1 && slack[0].body.hasPrefix("{\"text\":\"[P1] production: disk-check firing: disk_free ") && slack[0].body.hasSuffix("\"}")
                    && slack[0].headers["x-slipway-signature"] == nil, "Slack gets its own format, P1 and above only: \(slack.map(\.body))")
            let log = try String(contentsOfFile: s.config.logsDirectory + "/notifications.log", encoding: .utf8)
            #expect(log.contains("attempt 1: failed") && log.contains(": delivered"), "\(log)")
            #expect(!log.contains(hookSecret) && !log.contains(slackToken), "a secret reached the log")
        } catch {
            server?.cancel()
            _ = try? await server?.value
            await s.tearDown()
            kill(daemon.pid, SIGKILL)
            throw error
        }
        server?.cancel()
        _ = try? await server?.value
        await s.tearDown()
        kill(daemon.pid, SIGKILL)
        _ = ProcessInspector.isAlive(pid: daemon.pid, startTime: daemon.startTime)
    }
}
