import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import Testing

/// `hooks.pre_traffic` and `hooks.post_switch`: the drawer's validate-deployment.sh and smoke-test.sh,
/// run by the deployment itself.
@Suite(.serialized)
struct HookTests {
    static let hooks = """
        hooks:
          pre_traffic: "/bin/sh hook.sh pre"
          post_switch: "/bin/sh hook.sh post"
          timeout: 20s
        """

    /// The hook records what its target answered, then exits with the status the release's hook.sh says.
    static func hook(pre: Int, post: Int) -> String {
        """
        curl -s "$SLIPWAY_TARGET_URL/" > "$SLIPWAY_SHARED/$1-$SLIPWAY_RELEASE.txt"
        echo "$1 hook of $SLIPWAY_RELEASE against $SLIPWAY_TARGET_URL"
        if [ "$1" = pre ]; then exit \(pre); else exit \(post); fi
        """
    }

    @Test(.timeLimit(.minutes(2)))
    func aFailingPreTrafficHookRefusesTheDeployBeforeAnyUserRequest() async throws {
        let s = try Sandbox(extra: Self.hooks)
        try await s.withDaemon { _ in
            _ = try await s.release("v1", files: ["hook.sh": Self.hook(pre: 0, post: 0)])
            _ = try await s.release("v2", files: ["hook.sh": Self.hook(pre: 3, post: 0)])
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let d2 = try await s.outcome(try await s.deploy("v2"))
            #expect(d2.state == .failed)
            #expect(d2.message?.contains("the pre_traffic hook exited with status 3") == true, "\(d2.message ?? "")")
            #expect(d2.message?.contains("pre hook of v2 against http://127.0.0.1:") == true, "the hook's output is in the message: \(d2.message ?? "")")
            // The hook reached a v2 instance directly; no user request could: v2 was never switched to.
            let shared = s.config.sharedDirectory("production")
            #expect(try String(contentsOfFile: shared + "/pre-v2.txt", encoding: .utf8).hasPrefix("hello from demo-app v2"))
            let progress: DeploymentProgress = try await s.client.get("/v1/deployments/\(d2.id)?after=0")
            #expect(!progress.events.contains { $0.state == .switching })
            #expect(try await s.get().hasPrefix("200 hello from demo-app v1"))
            #expect(try await s.status().instances.allSatisfy { $0.release == "v1" }, "v2's instances were stopped")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func aFailingPostSwitchHookRollsBackToTheWarmPreviousRelease() async throws {
        let s = try Sandbox(extra: Self.hooks)
        try await s.withDaemon { _ in
            _ = try await s.release("v1", files: ["hook.sh": Self.hook(pre: 0, post: 0)])
            _ = try await s.release("v2", files: ["hook.sh": Self.hook(pre: 0, post: 4)])
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let v1Pids = Set(try await s.status().instances.map(\.pid))
            let d2 = try await s.outcome(try await s.deploy("v2"))
            #expect(d2.state == .rolledBack, "\(d2)")
            #expect(d2.message?.contains("the post_switch hook exited with status 4") == true, "\(d2.message ?? "")")
            // The smoke test ran through the router after the switch, and saw v2.
            let shared = s.config.sharedDirectory("production")
            #expect(try String(contentsOfFile: shared + "/post-v2.txt", encoding: .utf8).hasPrefix("hello from demo-app v2"))
            let status = try await s.status()
            #expect(status.currentRelease == "v1")
            #expect(Set(status.instances.filter { $0.release == "v1" && $0.state == .running }.map(\.pid)) == v1Pids, "the warm v1 instances serve again")
            #expect(try await s.get().hasPrefix("200 hello from demo-app v1"))
        }
    }

    /// A hook that hangs is stopped at `hooks.timeout` and counts as failed: the deploy is refused, v1 serves on.
    @Test(.timeLimit(.minutes(2)))
    func aHookThatHangsIsStoppedAtItsTimeout() async throws {
        let s = try Sandbox(extra: Self.hooks.replacingOccurrences(of: "timeout: 20s", with: "timeout: 1s"))
        try await s.withDaemon { _ in
            _ = try await s.release("v1", files: ["hook.sh": Self.hook(pre: 0, post: 0)])
            _ = try await s.release("v2", files: ["hook.sh": "if [ \"$1\" = pre ]; then sleep 600; fi\n"])
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let started = ContinuousClock.now
            let d2 = try await s.outcome(try await s.deploy("v2"))
            #expect(d2.state == .failed && d2.message?.contains("the pre_traffic hook did not finish within 1s") == true, "\(d2.message ?? "")")
            #expect(ContinuousClock.now - started < .seconds(60), "the hook was not waited for")
            #expect(try await s.get().hasPrefix("200 hello from demo-app v1"))
            let hung = try await ProcessSpawner.run(argv: ["/usr/bin/pgrep", "-f", "sleep 600"], directory: s.dir, environment: [:], logFile: s.dir + "/pgrep.out")
            #expect(hung != 0, "the hook's process was killed: \((try? String(contentsOfFile: s.dir + "/pgrep.out", encoding: .utf8)) ?? "")")
        }
    }

    @Test func aHookThatIsNotACommandLineIsAConfigError() {
        let yaml = "app: shop\nprocess: { command: x }\nhooks: { pre_traffic: \"./check 'unterminated\" }\n"
        do {
            _ = try ConfigLoader.parse(yaml: yaml, file: "slipway.yml", directory: "/tmp")
            Issue.record("accepted")
        } catch {
            #expect(error.problems.map(\.description).joined().contains("slipway.yml:3:23: hooks.pre_traffic: expected a command line"), "\(error.problems)")
        }
    }
}
