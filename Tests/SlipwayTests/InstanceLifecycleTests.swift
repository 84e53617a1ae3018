import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import Testing

/// Instances as a new user's launchers start them, on files only their owner reads, each with the
/// configuration its deployment started with.
@Suite(.serialized)
struct InstanceLifecycleTests {
    /// A launcher that forks (`sh -c '…; …'`) leaves the app as its child. Stopping the release must stop
    /// the app too: once the switch to v2 is done, nothing listens on v1's port any more.
    @Test(.timeLimit(.minutes(2)))
    func stoppingAReleaseStopsEverythingItsLauncherForked() async throws {
        let s = try Sandbox(extra: "keep_warm: 0s")
        let yaml = try String(contentsOfFile: s.dir + "/slipway.yml", encoding: .utf8)
        try yaml.replacingOccurrences(of: "command: \"\(TestBinaries.demoApp) --port $PORT\"",
                                      with: "command: \"/bin/sh -c '\(TestBinaries.demoApp) --port $PORT; echo the app exited'\"")
            .write(toFile: s.dir + "/slipway.yml", atomically: true, encoding: .utf8)
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            _ = try await s.release("v2")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let v1 = try await s.status().instances
            #expect(v1.count == 2)
            for i in v1 { #expect(try await SlipwayHTTPProbe.get(port: i.port, path: "/health/live").hasPrefix("200")) }
            #expect(try await s.outcome(try await s.deploy("v2")).state == .succeeded)
            for i in v1 {
                await #expect(throws: (any Error).self, "v1's app still listens on \(i.port) after its release was stopped") {
                    _ = try await SlipwayHTTPProbe.get(port: i.port, path: "/health/live")
                }
                #expect(ProcessGroup.members(of: i.pid, startTime: 0).isEmpty)
            }
            // A crash of the launcher's child is a crash of the instance: restarted, and nothing is left behind.
            let victim = try #require(try await s.status().instances.first)
            let child = try #require(ProcessGroup.members(of: victim.pid, startTime: 0).first { $0 != victim.pid })
            kill(child, SIGKILL)
            let restarted = try await poll(within: .seconds(15)) {
                try await s.status().instances.first { $0.slot == victim.slot && $0.pid != victim.pid && $0.ready }
            }
            #expect(restarted.restarts == 1)
            #expect(ProcessGroup.members(of: victim.pid, startTime: 0).isEmpty)
        }
    }

    /// `health.live`: an instance that still runs but fails its liveness check `unhealthy_threshold` times in
    /// a row is killed and restarted.
    @Test(.timeLimit(.minutes(2)))
    func anInstanceThatFailsLivenessIsRestarted() async throws {
        let s = try Sandbox()
        let yaml = try String(contentsOfFile: s.dir + "/slipway.yml", encoding: .utf8)
        try yaml.replacingOccurrences(of: "  path: /health/ready\n", with: "  path: /health/ready\n  live: /health/live\n")
            .write(toFile: s.dir + "/slipway.yml", atomically: true, encoding: .utf8)
        try await s.withDaemon { _ in
            _ = try await s.release("v1", settings: "\"live_fail_after_s\": 2")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let before = try await s.status().instances
            let restarted = try await poll(within: .seconds(20)) {
                try await s.status().instances.first { i in i.restarts >= 1 && !before.contains { $0.pid == i.pid } }
            }
            #expect(before.contains { $0.slot == restarted.slot })
            let page: EventPage = try await s.client.get("/v1/events?since=0&limit=1000")
            #expect(page.events.contains { if case .instance(let p) = $0.payload { p.change == .notLive } else { false } })
            #expect(page.events.contains { if case .instance(let p) = $0.payload { p.change == .restarted } else { false } })
        }
    }

    /// Under the default umask, the root is 0750 and the state database (with its WAL), the route table
    /// and the logs are not readable by other users.
    @Test(.timeLimit(.minutes(2)))
    func theRootAndItsFilesArePrivate() async throws {
        let old = umask(0o022)
        defer { umask(old) }
        let s = try Sandbox()
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let root = s.config.root
            func mode(_ path: String) throws -> Int { try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1 }
            #expect(try mode(root) == 0o750)
            for file in ["state.db", "state.db-wal", "state.db-shm", "router.json"] {
                let m = try mode(root + "/" + file)
                #expect(m == 0o600, "\(file) is \(String(m, radix: 8))")
            }
            let logs = try FileManager.default.contentsOfDirectory(atPath: root + "/logs").filter { $0.hasSuffix(".log") }
            #expect(logs.count >= 3, "\(logs)")
            for log in logs {
                let m = try mode(root + "/logs/" + log)
                #expect(m & 0o007 == 0, "\(log) is readable by others (\(String(m, radix: 8)))")
            }
        }
    }

    /// A deployment runs on the configuration it started with: a reload in the middle (another command
    /// re-reads slipway.yml) never mixes two configurations in one deployment.
    @Test(.timeLimit(.minutes(2)))
    func aDeploymentKeepsTheConfigurationItStartedWith() async throws {
        let gate = MigrationGate()
        defer { gate.remove() }
        let s = try Sandbox(extra: gate.yaml)
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            let d = try await s.deploy("v1")
            try await gate.waitUntilMigrating(d, s)
            // Meanwhile slipway.yml changes and another command makes the daemon read it.
            let yaml = try String(contentsOfFile: s.dir + "/slipway.yml", encoding: .utf8)
            try yaml.replacingOccurrences(of: "app: demo", with: "app: renamed").write(toFile: s.dir + "/slipway.yml", atomically: true, encoding: .utf8)
            _ = try await s.release("v2")
            gate.open()
            #expect(try await s.outcome(d).state == .succeeded)
            let env = try await SlipwayHTTPProbe.get(port: s.port, path: "/env")
            #expect(env.contains("SLIPWAY_APP=demo\n"), "the instance was started with the reloaded config: \(env)")
        }
    }
}
