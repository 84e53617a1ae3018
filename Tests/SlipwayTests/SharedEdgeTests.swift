import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A systemd notify socket of our own: what a `Type=notify` service manager would receive.
final class NotifySocket: Sendable {
    let path: String
    let fd: Int32
    let received = Mutex<[String]>([])
    let done = Atomic<Bool>(false)

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw Pebble.Failure("cannot bind \(path)") }
        let reader = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !done.load(ordering: .relaxed) {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 100) == 1 else { continue }
                let n = recv(fd, &buffer, buffer.count, 0)
                if n > 0 { received.withLock { $0.append(String(decoding: buffer[0..<n], as: UTF8.self)) } }
            }
        }
        reader.start()
    }

    /// The pids announced with `MAINPID=` so far.
    var mainPIDs: [Int32] {
        received.withLock { $0 }.flatMap { $0.split(separator: "\n") }.compactMap { $0.hasPrefix("MAINPID=") ? Int32($0.dropFirst(8)) : nil }
    }

    func close() {
        done.store(true, ordering: .relaxed)
        Glibc.close(fd)
    }
}

/// `slipway edge`: two apps, each with its own daemon and slipway.yml, on one edge process by SNI on one
/// HTTPS address. One app's canary, deploys and rollback under load fail none of the other's requests; an app
/// claiming the other's host is refused with the owner's name; the edge serves while both daemons are down.
@Suite(.serialized)
struct SharedEdgeTests {
    struct Edge {
        let pid: Int32
        let socket: String
        let log: String
        let notify: NotifySocket

        static func start(in dir: String) async throws -> Edge {
            let socket = dir + "/run/edge.sock"
            let notify = try NotifySocket(path: dir + "/notify.sock")
            var environment = ProcessInfo.processInfo.environment
            environment["NOTIFY_SOCKET"] = notify.path
            let spawned = try ProcessSpawner.spawn(argv: [TestBinaries.slipway, "edge", "--socket", socket, "--state", dir + "/edge", "--threads", "2"],
                                                   directory: dir, environment: environment, logFile: dir + "/edge.log")
            let edge = Edge(pid: spawned.pid, socket: socket, log: dir + "/edge.log", notify: notify)
            _ = try await poll(within: .seconds(15)) { () async -> Bool? in
                (try? await MiniHTTPClient().request("GET", .unix(path: socket), path: "/v1/health", timeout: .seconds(1)))?.status == 200 ? true : nil
            }
            return edge
        }

        /// The newest process systemd would know as the service's (a handover's new one is not our child).
        func stop() async {
            for p in Set([pid] + notify.mainPIDs) where kill(p, 0) == 0 {
                kill(p, SIGTERM)
                let deadline = ContinuousClock.now + .seconds(10)
                while kill(p, 0) == 0, ContinuousClock.now < deadline {
                    _ = await ProcessSpawner.wait(p, timeout: .milliseconds(50))
                }
                if kill(p, 0) == 0 { kill(p, SIGKILL) }
            }
            _ = await ProcessSpawner.wait(pid, timeout: .seconds(2))
            // Whatever still runs with this edge's socket (a new process nobody announced) is killed too.
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let p = Int32(entry), p != getpid(),
                      let cmdline = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline")) else { continue }
                if String(decoding: cmdline, as: UTF8.self).contains(socket) { kill(p, SIGKILL) }
            }
            notify.close()
        }
    }

    static func app(_ name: String, host: String, cert: TestCertificates, edge: Edge, plain: Int, secure: Int, extra: String = "", strategy: String = "blue-green") throws -> Sandbox {
        try Sandbox(strategy: strategy, extra: """
            environments:
              production:
                router: { edge: \(edge.socket), listen: "127.0.0.1:\(plain)", hosts: [\(host)], listen_tls: "127.0.0.1:\(secure)",
                          tls: { cert: \(cert.certFile), key: \(cert.keyFile) } }
            \(extra)
            """, app: name)
    }

    @Test(.timeLimit(.minutes(3)))
    func twoAppsShareOneEdgeAndOneAppsCanaryDeployAndRollbackFailNoneOfTheOthersRequests() async throws {
        let dir = try EdgeTLSTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plain = try PortAllocator.freePort(), secure = try PortAllocator.freePort()
        let certA = try TestCertificates(in: dir, name: "a", hosts: ["a.test"]), certB = try TestCertificates(in: dir, name: "b", hosts: ["b.test"])
        let edge = try await Edge.start(in: dir)
        let a = try Self.app("shop-a", host: "a.test", cert: certA, edge: edge, plain: plain, secure: secure, extra: """
            watch: 0
            analysis: { interval: 250ms, min_requests: 20, rules: ["error_rate > baseline + 5%"] }
            canary: { instances: 1, steps: [{ weight: 50, pause: 1s }], max_step_duration: 30s }
            """, strategy: "canary")
        let b = try Self.app("shop-b", host: "b.test", cert: certB, edge: edge, plain: plain, secure: secure)
        var daemons: [RunningDaemon] = []
        var failure: (any Error)?
        do {
            daemons.append(try await a.startDaemon())
            daemons.append(try await b.startDaemon())
            for s in [a, b] {
                _ = try await s.release("v1")
                _ = try await s.release("v2")
                #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            }
            let loadB = LoadLoop(port: secure, client: MiniHTTPClient(tls: try MiniHTTPClient.tlsContext(caFile: certB.caFile)), serverName: "b.test")
            let loadA = LoadLoop(port: secure, client: MiniHTTPClient(tls: try MiniHTTPClient.tlsContext(caFile: certA.caFile)), serverName: "a.test")
            loadB.start(concurrency: 3, maxDuration: .seconds(90))
            loadA.start(concurrency: 2, maxDuration: .seconds(90))
            // App A: a canary of v2 (promoted on evidence), a blue-green deploy back to v1, a rollback to v2.
            let canary = try await a.outcome(try await a.deploy("v2"), within: .seconds(60))
            #expect(canary.state == .succeeded, "\(canary.message ?? "")")
            #expect(try await a.outcome(try await a.deploy("v1", strategy: .blueGreen)).state == .succeeded)
            #expect(try await a.outcome(try await a.deploy(nil, kind: .rollback)).state == .succeeded)
            let summaryA = await loadA.stop(), summaryB = await loadB.stop()
            #expect(summaryB.failures == 0 && summaryB.requests > 50 && summaryB.byRelease.keys.sorted() == ["v1"], "\(summaryB)")
            #expect(summaryA.failures == 0 && summaryA.byRelease["v2", default: 0] > 0, "\(summaryA)")

            // Another app claiming b.test is refused, naming the owner; shop-b's routes are untouched.
            var intruder = ListenerTable(name: "production", listen: ListenAddress(host: "127.0.0.1", port: plain), pools: [])
            intruder.route = RouteMatch(hosts: ["b.test"])
            let body = try SlipwayJSON.encoder().encode(RouteTable(generation: 1, listeners: [intruder]))
            let refused = try await MiniHTTPClient().request("PUT", .unix(path: edge.socket), path: "/v1/apps/intruder/table",
                                                             headers: [("Content-Type", "application/json")], body: Array(body))
            let message = refused.bodyText.replacingOccurrences(of: "\\/", with: "/")
            #expect(refused.status == 403 && message.contains("host b.test with path / on 127.0.0.1:\(plain) is held by app 'shop-b' (environment 'production')"), "\(refused.status) \(message)")

            // The edge restarts (SIGHUP, systemd's ExecReload) under load: no request of either app fails; the new
            // process tells systemd it is the main process before the old one exits.
            #expect(edge.notify.mainPIDs == [edge.pid], "\(edge.notify.received.withLock { $0 })")
            let handoverB = LoadLoop(port: secure, client: MiniHTTPClient(tls: try MiniHTTPClient.tlsContext(caFile: certB.caFile)), serverName: "b.test")
            handoverB.start(concurrency: 3, maxDuration: .seconds(60))
            _ = try await poll(within: .seconds(10)) { handoverB.summary.requests > 20 ? true : nil }
            kill(edge.pid, SIGHUP)
            let next = try await poll(within: .seconds(20)) { edge.notify.mainPIDs.last.flatMap { $0 != edge.pid ? $0 : nil } }
            _ = try await poll(within: .seconds(20)) { () async -> Bool? in await ProcessSpawner.wait(edge.pid, timeout: .milliseconds(50)) != nil ? true : nil }
            let during = await handoverB.stop()
            #expect(during.failures == 0 && during.requests > 20, "\(during)")
            #expect(kill(next, 0) == 0)

            // Both daemons down: the edge serves both apps as they were.
            for d in daemons { await d.stop() }
            daemons.removeAll()
            for (name, ca) in [("a.test", certA.caFile), ("b.test", certB.caFile)] {
                let r = try await MiniHTTPClient(tls: try MiniHTTPClient.tlsContext(caFile: ca)).request("GET", .tcp(host: "127.0.0.1", port: secure), path: "/", serverName: name)
                #expect(r.status == 200 && r.bodyText.hasPrefix("hello from demo-app v"), "\(name): \(r.status) \(r.bodyText)")
            }
        } catch { failure = error }
        if failure != nil { print("edge.log:\n" + ((try? String(contentsOfFile: edge.log, encoding: .utf8))?.suffix(6000) ?? "")) }
        for d in daemons { await d.stop() }
        for s in [a, b] {
            s.killLeftovers()
            s.removeFiles()
        }
        await edge.stop()
        if let failure { throw failure }
    }
    /// An app on the edge is told when its ACME certificate cannot be had: the edge keeps the certificate and its
    /// renewal state under its own directory, and the daemon's built-in alert reads them through the edge.
    @Test(.timeLimit(.minutes(2)))
    func anAppsDaemonAlertsWhenTheEdgeCannotGetItsCertificate() async throws {
        let dir = try EdgeTLSTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plain = try PortAllocator.freePort(), secure = try PortAllocator.freePort(), closed = try PortAllocator.freePort()
        let edge = try await Edge.start(in: dir)
        let s = try Sandbox(extra: """
            environments:
              production:
                router: { edge: \(edge.socket), listen: "127.0.0.1:\(plain)", hosts: [shop.test], listen_tls: "127.0.0.1:\(secure)",
                          tls: acme, acme: { directory: "https://127.0.0.1:\(closed)/dir" } }
            """, app: "shop")
        var failure: (any Error)?
        do {
            try await s.withDaemon { _ in
                _ = try await s.release("v1")
                #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
                let firing = try await poll(within: .seconds(20)) { () async throws -> AlertInfo? in
                    let all: [AlertInfo] = try await s.client.get("/v1/alerts")
                    return all.first { $0.name == "certificate-renewal-failed" && $0.state == .firing }
                }
                #expect(firing.summary.contains("getting a certificate for shop.test failed 1 time(s)") && firing.summary.contains("cannot reach the ACME CA")
                        && firing.summary.contains("placeholder"), "\(firing.summary)")
                let all: [AlertInfo] = try await s.client.get("/v1/alerts")
                #expect(all.first { $0.name == "certificate-expiring" }?.state != .firing, "the placeholder is not an expiring certificate")
                #expect(!FileManager.default.fileExists(atPath: s.dir + "/acme"), "the edge keeps the app's ACME files, not the app's root")
            }
        } catch { failure = error }
        if failure != nil { print("edge.log:\n" + ((try? String(contentsOfFile: edge.log, encoding: .utf8))?.suffix(6000) ?? "")) }
        s.killLeftovers()
        await edge.stop()
        if let failure { throw failure }
    }
}
