import Foundation
import SlipwayClient
import SlipwayCore
@testable import SlipwayFleet
import SlipwayHTTP
import SlipwayRuntime
import Testing

/// A deploy across four hosts (network namespaces, each with its own sshd and host daemon), over real ssh.
@Suite(.serialized)
struct FleetTests {
    @Test(.timeLimit(.minutes(3)), .enabled(if: FleetLab.canRun, Comment(rawValue: FleetLab.skipNote)))
    func aRollingDeployAcrossFourHostsAndAFailureOnOneThatLeavesTheFleetUniform() async throws {
        // sshd as a hardened host has it: few unauthenticated connections at once, two sessions per connection.
        try await FleetLab.with(4, sshd: "MaxStartups 3:30:5\nMaxSessions 2") { lab in try await fourHosts(lab) }
    }

    /// h3's link goes down while it activates: ssh gives up on it after three missed keep-alives, it is `unknown`,
    /// the hosts already switched revert and h4 is never touched; once the link is back `fleet status` shows the
    /// drift (h3 finished its own switch meanwhile) and deploying again converges the fleet.
    @Test(.timeLimit(.minutes(3)), .enabled(if: FleetLab.canRun, Comment(rawValue: FleetLab.skipNote)))
    func aHostWhoseLinkGoesDownMidActivateIsUnknownAndARedeployConverges() async throws {
        try await FleetLab.with(4) { lab in
            try lab.writeApp(port: 18_080)
            let first = try await lab.deploy("v1")
            #expect(first.status == 0, "\(first.text)")
            try lab.slow("v2", onHost: 2)
            try "v2".write(toFile: lab.app + "/VERSION", atomically: true, encoding: .utf8)
            let (pid, log) = try lab.start(["deploy", "v2", "--json"])
            _ = try await poll(within: .seconds(60)) { () -> Bool? in
                ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("batch 3: activating h3") ? true : nil
            }
            try await lab.link(2, up: false)
            let status = await ProcessSpawner.wait(pid)
            try await lab.link(2, up: true)
            let text = try String(contentsOfFile: log, encoding: .utf8)
            #expect(status == 1, "\(text)")
            #expect(text.contains("\"state\" : \"unknown\"") && text.contains("unknown: h3"), "\(text)")
            let json = String(text[text.range(of: "\n{", options: .backwards)!.upperBound...])
            let outcome = try JSONDecoder().decode(FleetOutcomeView.self, from: Data(("{" + json).utf8))
            #expect(outcome.hosts.map(\.state) == ["reverted", "reverted", "unknown", "staged"])
            #expect(outcome.hosts.map(\.current) == ["v1", "v1", nil, "v1"])

            let drift = try await poll(within: .seconds(30)) { () async throws -> String? in
                let s = try await lab.cli(["fleet", "status", "--json"])
                return s.text.contains("\"drift\" : true") && s.text.contains("\"current\" : \"v2\"") ? s.text : nil
            }
            #expect(drift.contains("\"reachable\" : true"))
            let again = try await lab.deploy("v2")
            #expect(again.status == 0 && again.outcome?.hosts.map(\.current) == ["v2", "v2", "v2", "v2"], "\(again.text)")
        }
    }

    /// A fleet canary on one host of four, failing half its requests under load: reverted on the routers' evidence,
    /// the other three never touched and failing nothing meanwhile.
    @Test(.timeLimit(.minutes(3)), .enabled(if: FleetLab.canRun, Comment(rawValue: FleetLab.skipNote)))
    func aFleetCanaryFailingHalfItsRequestsIsRevertedAndTheOthersAreUntouched() async throws {
        try await FleetLab.with(4) { lab in
            let port = 18_080
            try lab.writeApp(port: port, fleet: "{ strategy: canary, canary: { hosts: 1, analysis: 30s }, batch: 3, healthy_deadline: 30s }")
            #expect(try await lab.deploy("v1").status == 0)
            try lab.flaky("v2", onHost: 0)
            let loads = lab.hosts.map { LoadLoop(host: $0.address, port: port) }
            for l in loads { l.start(concurrency: 2) }
            let second = try await lab.deploy("v2")
            var served: [LoadLoop.Summary] = []
            for l in loads { served.append(await l.stop()) }
            #expect(second.status == 1 && second.outcome?.state == "rolled_back", "\(second.text)")
            #expect(second.outcome?.message.hasPrefix("canary failed: ") == true && second.outcome?.message.contains("error") == true, "\(second.text)")
            #expect(second.outcome?.hosts.map(\.state) == ["reverted", "staged", "staged", "staged"], "\(second.text)")
            #expect(second.outcome?.hosts.map(\.current) == ["v1", "v1", "v1", "v1"], "\(second.text)")
            #expect(!second.text.contains("activating h2"), "the other hosts were never activated")
            for (h, s) in zip(lab.hosts, served).dropFirst() {
                #expect(s.requests > 20 && s.failures == 0, "\(h.name): \(s.requests) requests, \(s.failures) failed")
            }
            #expect(served[0].failures > 0, "the canary's failures reached its clients until it was reverted")
        }
    }

    /// A fleet canary is judged by the environment's analysis rules, as a single host's canary is: a canary host whose
    /// new release answers 300 ms late fails `p99_latency > 3 * baseline` on its router's windows against the other
    /// host's, and is reverted; the other host is never touched.
    @Test(.timeLimit(.minutes(3)), .enabled(if: FleetLab.canRun, Comment(rawValue: FleetLab.skipNote)))
    func aFleetCanaryIsJudgedByTheLatencyRuleToo() async throws {
        try await FleetLab.with(2) { lab in
            let port = 18_080
            try lab.writeApp(port: port, fleet: "{ strategy: canary, canary: { hosts: 1, analysis: 20s }, healthy_deadline: 30s }",
                             top: "analysis: { min_requests: 20, rules: [\"p99_latency > 3 * baseline\"] }")
            #expect(try await lab.deploy("v1").status == 0)
            try lab.lagging("v2", onHost: 0)
            let loads = lab.hosts.map { LoadLoop(host: $0.address, port: port) }
            for l in loads { l.start(concurrency: 2) }
            let second = try await lab.deploy("v2")
            for l in loads { _ = await l.stop() }
            #expect(second.status == 1 && second.outcome?.state == "rolled_back", "\(second.text)")
            #expect(second.outcome?.message.hasPrefix("canary failed: p99_latency > 3 * baseline: ") == true, "\(second.text)")
            #expect(second.outcome?.hosts.map(\.state) == ["reverted", "staged"] && second.outcome?.hosts.map(\.current) == ["v1", "v1"], "\(second.text)")
        }
    }

    /// One database the hosts share: the migration runs once per deploy, on the first host, before the others switch
    /// (`fleet.data: once`, the default without a backup source on the hosts); `each_host` runs it on every host.
    @Test(.timeLimit(.minutes(3)), .enabled(if: FleetLab.canRun, Comment(rawValue: FleetLab.skipNote)))
    func theMigrationRunsOncePerFleetDeploy() async throws {
        try await FleetLab.with(2) { lab in
            let ran = lab.dir + "/migrations.log"
            // One append of one line per run (hosts that run it at once cannot interleave it).
            let migrate = "migrate: { up: \"sh -c 'echo $(cat VERSION) >> \(ran)'\" }"
            try lab.writeApp(port: 18_080, fleet: "{ strategy: all_at_once, healthy_deadline: 30s }", top: migrate)
            let first = try await lab.deploy("v1")
            #expect(first.status == 0 && first.text.contains("h1: the data steps (backup, migrations) run here, once"), "\(first.text)")
            #expect(try String(contentsOfFile: ran, encoding: .utf8) == "v1\n", "once, not once per host")
            #expect(try await lab.deploy("v2").status == 0)
            #expect(try String(contentsOfFile: ran, encoding: .utf8) == "v1\nv2\n")
            try lab.writeApp(port: 18_080, fleet: "{ strategy: all_at_once, healthy_deadline: 30s, data: each_host }", top: migrate)
            #expect(try await lab.deploy("v3").status == 0)
            let all = try String(contentsOfFile: ran, encoding: .utf8)
            #expect(all == "v1\nv2\nv3\nv3\n", "each host runs its own: \(all)")
        }
    }

    /// Two operators at once: exactly one deploys, the other is refused (exit 3) or, with --lock-wait, follows. A
    /// controller killed in the middle of a batch leaves its lease to expire, and `deploy rollback ID` puts every
    /// host back.
    @Test(.timeLimit(.minutes(3)), .enabled(if: FleetLab.canRun, Comment(rawValue: FleetLab.skipNote)))
    func twoOperatorsAndAKilledController() async throws {
        try await FleetLab.with(2) { lab in
            try lab.writeApp(port: 18_080, fleet: "{ strategy: rolling, batch: 1, healthy_deadline: 30s, lease_ttl: 3s }")
            #expect(try await lab.deploy("v1").status == 0)
            try "v2".write(toFile: lab.app + "/VERSION", atomically: true, encoding: .utf8)
            async let a = lab.cli(["deploy", "v2"])
            async let b = lab.cli(["deploy", "v2", "--hosts", "h2"])
            let (first, second) = try await (a, b)
            #expect([first.status, second.status].sorted() == [0, 3], "exactly one wins:\n\(first.text)\n---\n\(second.text)")
            #expect((first.status == 3 ? first : second).text.contains("is being deployed by"))

            // --lock-wait: the second one goes as soon as the first gives the lease back (started once the first holds it).
            try "v3".write(toFile: lab.app + "/VERSION", atomically: true, encoding: .utf8)
            try lab.slow("v3", onHost: 1)  // The first holds the lease for seconds after it has staged.
            let (heldPid, heldLog) = try lab.start(["deploy", "v3"])
            _ = try await poll(within: .seconds(60)) { () -> Bool? in
                ((try? String(contentsOfFile: heldLog, encoding: .utf8)) ?? "").contains("staged v3") ? true : nil
            }
            let waited = try await lab.cli(["deploy", "v3", "--lock-wait", "60s"])
            let heldStatus = await ProcessSpawner.wait(heldPid)
            let heldText = (try? String(contentsOfFile: heldLog, encoding: .utf8)) ?? ""
            #expect(heldStatus == 0 && waited.status == 0, "\(heldText)\n---\n\(waited.text)")
            #expect(waited.text.contains("waiting for"), "\(waited.text)")

            // The controller killed while h2 activates (h1 already switched): the lease frees itself, and a rollback
            // by the deployment's id puts h1 back.
            try "v4".write(toFile: lab.app + "/VERSION", atomically: true, encoding: .utf8)
            let (pid, log) = try lab.start(["deploy", "v4"])
            let id = try await poll(within: .seconds(60)) { () -> String? in
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                guard text.contains("batch 2: activating h2"), let r = text.range(of: "fleet deployment fd-") else { return nil }
                return "fd-" + text[r.upperBound...].prefix { $0 != ":" }
            }
            kill(pid, SIGKILL)
            _ = await ProcessSpawner.wait(pid)
            // Finished by id (the lease frees itself after lease_ttl), then undone by id.
            let resumed = try await lab.cli(["deploy", "resume", id, "--lock-wait", "30s", "--json"])
            #expect(resumed.status == 0 && resumed.text.contains("v4 serves on 2 host(s)"), "\(resumed.text)")
            let back = try await lab.cli(["deploy", "rollback", id, "--lock-wait", "30s"])
            #expect(back.status == 0, "\(back.text)")
            let status = try await lab.cli(["fleet", "status", "--json"])
            #expect(status.text.contains("\"drift\" : false") && status.text.contains("\"current\" : \"v3\""), "\(status.text)")
            // Without shared state a fleet has no shared history to read.
            let history = try await lab.cli(["history"])
            #expect(history.status == 2 && history.text.contains("kept in the shared state"), "\(history.text)")
        }
    }

    func fourHosts(_ lab: FleetLab) async throws {
        let port = 18_080
        try lab.writeApp(port: port)

        let first = try await lab.deploy("v1")
        #expect(first.status == 0, "\(first.text)")
        #expect(first.outcome?.hosts.map(\.current) == ["v1", "v1", "v1", "v1"], "\(first.text)")

        // v2 under load on every host's router: the hosts switch one at a time, each through its own health gate,
        // and no request fails on any of them.
        let loads = lab.hosts.map { LoadLoop(host: $0.address, port: port) }
        for l in loads { l.start(concurrency: 2) }
        let second = try await lab.deploy("v2")
        var served: [LoadLoop.Summary] = []
        for l in loads { served.append(await l.stop()) }
        #expect(second.status == 0, "\(second.text)")
        #expect(second.outcome?.hosts.map(\.current) == ["v2", "v2", "v2", "v2"])
        for (h, s) in zip(lab.hosts, served) {
            #expect(s.requests > 20 && s.failures == 0, "\(h.name): \(s.requests) requests, \(s.failures) failed (\(s.lastFailure ?? ""))")
            #expect(s.byRelease["v2", default: 0] > 0, "\(h.name) served v2")
        }
        let text = second.text
        let activations = ["h1", "h2", "h3", "h4"].compactMap { text.range(of: "batch \(["h1": 1, "h2": 2, "h3": 3, "h4": 4][$0]!): activating \($0)")?.lowerBound }
        #expect(activations.count == 4 && activations == activations.sorted(), "one host per batch, in order: \(text)")

        // v3 fails its health check on h3 only: h1 and h2 (already switched) revert, h4 is never touched, exit 1.
        try lab.refuse("v3", onHost: 2)
        let third = try await lab.deploy("v3")
        #expect(third.status == 1, "\(third.text)")
        #expect(third.outcome?.state == "rolled_back")
        #expect(third.outcome?.hosts.map(\.state) == ["reverted", "reverted", "reverted", "staged"], "\(third.text)")
        #expect(third.outcome?.hosts.map(\.current) == ["v2", "v2", "v2", "v2"], "h1 and h2 back on v2, h3 never switched, h4 never activated")
        let status = try await lab.cli(["fleet", "status", "--json"])
        #expect(status.status == 0 && status.text.contains("\"drift\" : false"), "\(status.text)")
        for h in lab.hosts {
            let r = try await MiniHTTPClient().request("GET", .tcp(host: h.address, port: port), path: "/")
            #expect(r.bodyText.contains("demo-app v2"), "\(h.name) serves v2 after the failed v3: \(r.bodyText)")
        }

        // A controller acting with an epoch older than one a host has seen is refused (fencing), and nothing changes.
        let h1 = HostClient(SSHHost(destination: "h1", settings: { var s = SSHSettings(); s.config = lab.dir + "/ssh_config"; s.slipway = TestBinaries.slipway; return s }(),
                                    scratch: lab.dir))
        try await h1.connect()
        await #expect(throws: SlipwayError.self) {
            _ = try await h1.activate(app: "shop", HostActivateRequest(environment: "production", version: "v1", deployment: "replayed", epoch: 1, actor: "t"),
                                      deadline: .seconds(10))
        }
        await h1.disconnect()

        // `slipway rollback` fleet-wide: without a version the hosts must agree on what served before (h1 and h2 had v3
        // reverted, h3 and h4 did not): refused; to a named release present on every host: each switches back.
        let unsure = try await lab.cli(["rollback"])
        #expect(unsure.status == 1 && unsure.text.contains("do not share one previous release"), "\(unsure.text)")
        let back = try await lab.cli(["rollback", "v1", "--json"])
        #expect(back.status == 0 && back.text.contains("v1 serves on 4 host(s)"), "\(back.text)")
        let missing = try await lab.cli(["rollback", "v0"])
        #expect(missing.status == 1 && missing.text.contains("v0 is not on h1, h2, h3, h4; nothing changed"), "\(missing.text)")

        // A host unreachable at preflight: nothing changes anywhere.
        kill(pid_t(try String(contentsOfFile: lab.dir + "/h4/sshd.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!, SIGTERM)
        let fourth = try await lab.deploy("v4")
        #expect(fourth.status == 1 && fourth.outcome?.phase == "preflight", "\(fourth.text)")
        #expect(fourth.outcome?.hosts[3].state == "unreachable")
        #expect(fourth.outcome?.hosts.prefix(3).allSatisfy { $0.state == "untouched" } == true, "nothing staged: \(fourth.text)")
        let r = try await MiniHTTPClient().request("GET", .tcp(host: lab.hosts[0].address, port: port), path: "/")
        #expect(r.bodyText.contains("demo-app v1"))
    }
}
