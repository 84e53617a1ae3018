import Foundation
import SlipwayClient
import SlipwayCore
@testable import SlipwayEngine
import SlipwayHTTP
import SlipwayRuntime
import Testing

/// A real git repository, a real daemon on TCP, requests signed as GitHub and GitLab sign them.
@Suite(.serialized)
struct WebhookIntegrationTests {
    /// A repository with a main branch whose build writes the commit it was given into the release.
    static func repository(in dir: String) async throws -> (repo: String, git: ([String]) async throws -> String) {
        let repo = dir + "/repo"
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        func git(_ args: [String]) async throws -> String {
            let out = dir + "/git-\(UUID().uuidString.prefix(6)).out"
            let status = try await ProcessSpawner.run(argv: ["git", "-C", repo, "-c", "user.name=Test", "-c", "user.email=t@example.com"] + args,
                                                      directory: repo, environment: ProcessInfo.processInfo.environment, logFile: out)
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            guard status == 0 else { throw SlipwayError.failed("git \(args.joined(separator: " ")): \(text)") }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try await git(["init", "--quiet", "--initial-branch=main"])
        try "{\"ready\": true}".write(toFile: repo + "/demo-app.json", atomically: true, encoding: .utf8)
        try "printf '%s' \"$SLIPWAY_GIT_COMMIT\" > built-from.txt\n".write(toFile: repo + "/build.sh", atomically: true, encoding: .utf8)
        _ = try await git(["add", "."])
        _ = try await git(["commit", "--quiet", "-m", "first"])
        return (repo, git)
    }

    static func post(_ api: Int, _ path: String, _ headers: [(String, String)], _ body: String) async throws -> MiniHTTPClient.Response {
        try await MiniHTTPClient().request("POST", .tcp(host: "127.0.0.1", port: api), path: path,
                                           headers: [("Content-Type", "application/json")] + headers, body: Array(body.utf8), timeout: .seconds(30))
    }

    /// A push of `commit` to main as GitHub sends it, signed with the test secret, as delivery `id`.
    static func githubPush(_ api: Int, delivery id: String, commit: String, branch: String = "main") async throws -> MiniHTTPClient.Response {
        let body = "{\"ref\":\"refs/heads/\(branch)\",\"after\":\"\(commit)\",\"deleted\":false}"
        return try await post(api, "/hooks/github", [("X-GitHub-Event", "push"), ("X-GitHub-Delivery", id),
                                                     ("X-Hub-Signature-256", WebhookSignature.githubHeader(secret: "gh-secret-for-tests", body: Array(body.utf8)))], body)
    }

    /// Commits `script` as gated.sh (the build the slow-build tests configure) and returns the new head.
    static func commitBuild(_ script: String, repo: String, git: ([String]) async throws -> String) async throws -> String {
        try script.write(toFile: repo + "/gated.sh", atomically: true, encoding: .utf8)
        _ = try await git(["add", "gated.sh"])
        _ = try await git(["commit", "--quiet", "-m", "gated build"])
        return try await git(["rev-parse", "HEAD"])
    }

    /// The hooks' secrets in the sandbox's root.
    static func writeSecrets(_ s: Sandbox) throws {
        try FileManager.default.createDirectory(atPath: s.config.root, withIntermediateDirectories: true)
        try "GH_HOOK_SECRET=gh-secret-for-tests\nGL_HOOK_TOKEN=gl-token-for-tests\n".write(toFile: s.config.root + "/secrets.env", atomically: true, encoding: .utf8)
    }

    @Test(.timeLimit(.minutes(2)))
    func aSignedPushBuildsThatCommitAndDeploysItAndNothingElseGetsIn() async throws {
        let api = try PortAllocator.freePort(), stagingPort = try PortAllocator.freePort()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-hooks-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (repo, git) = try await Self.repository(in: scratch)
        let s = try Sandbox(extra: """
            server: { listen: "127.0.0.1:\(api)" }
            release: { git: { repo: \(repo) }, build: "sh build.sh" }
            environments:
              staging: { order: 1, router: { listen: "127.0.0.1:\(stagingPort)" } }
              production: { order: 2, branches: [main] }
            webhooks:
              - { provider: github, secret: GH_HOOK_SECRET, on: { push: main }, deploy_to: staging }
              - { provider: gitlab, secret: GL_HOOK_TOKEN, on: { tag: "v*" }, deploy_to: staging }
            """)
        func staging() async throws -> String? {
            let all: [EnvironmentStatus] = try await s.client.get("/v1/status")
            return all.first { $0.name == "staging" }?.currentRelease
        }
        try Self.writeSecrets(s)
        try await s.withDaemon { _ in
            let first = try await git(["rev-parse", "HEAD"])
            let push = "{\"ref\":\"refs/heads/main\",\"before\":\"\(String(repeating: "0", count: 40))\",\"after\":\"\(first)\",\"deleted\":false}"
            func github(_ delivery: String, _ body: String, secret: String = "gh-secret-for-tests") async throws -> MiniHTTPClient.Response {
                try await Self.post(api, "/hooks/github", [("X-GitHub-Event", "push"), ("X-GitHub-Delivery", delivery),
                                                           ("X-Hub-Signature-256", WebhookSignature.githubHeader(secret: secret, body: Array(body.utf8)))], body)
            }

            // A wrong signature, or none: 401, and nothing is created.
            let forged = try await github("d-forged", push, secret: "guess")
            #expect(forged.status == 401, "\(forged.status) \(forged.bodyText)")
            let unsigned = try await Self.post(api, "/hooks/github", [("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "d-unsigned")], push)
            #expect(unsigned.status == 401)
            let nothing: [ReleaseInfo] = try await s.client.get("/v1/releases")
            let serving = try await staging()
            #expect(nothing.isEmpty && serving == nil)

            // Signed: the commit becomes a release (built there) and is deployed.
            let accepted = try await github("d-1", push)
            #expect(accepted.status == 201, "\(accepted.status) \(accepted.bodyText)")
            let result = try SlipwayJSON.decoder().decode(WebhookResult.self, from: Data(accepted.body))
            let action = try #require(result.actions.first)
            let version = "main-\(first.prefix(12))"
            #expect(action.version == version && action.deployTo == "staging" && action.error == nil, "\(result)")
            let deployment = try await s.client.get("/v1/deployments/\(try #require(action.deploymentId))", as: DeploymentProgress.self).deployment
            #expect(try await s.outcome(deployment).state == .succeeded)
            #expect(try await staging() == version)
            let releases: [ReleaseInfo] = try await s.client.get("/v1/releases")
            let release = try #require(releases.first { $0.version == version })
            #expect(release.gitCommit == first && release.gitBranch == "main" && release.gitDirty == false && release.creator == "webhook:github")
            #expect(try String(contentsOfFile: s.config.releasesDirectory + "/\(version)/built-from.txt", encoding: .utf8) == first, "release.build ran in the commit's tree")

            // The same delivery again, or the same body under a new id: a replay.
            let replay = try await github("d-1", push)
            #expect(replay.status == 409 && replay.bodyText.contains("a replay is refused"), "\(replay.status) \(replay.bodyText)")
            let renamed = try await github("d-2", push)
            #expect(renamed.status == 409, "\(renamed.status) \(renamed.bodyText)")

            // A branch no hook names: acknowledged, nothing done.
            let feature = "{\"ref\":\"refs/heads/feature\",\"after\":\"\(first)\",\"deleted\":false}"
            let ignored = try await github("d-3", feature)
            #expect(ignored.status == 200 && ignored.bodyText.contains("no webhook acts on refs/heads/feature"), "\(ignored.bodyText)")

            // GitLab, an annotated tag: the release is named by the tag and records the commit, not the tag object.
            try "{\"ready\": true, \"latency_ms\": 1}".write(toFile: repo + "/demo-app.json", atomically: true, encoding: .utf8)
            _ = try await git(["commit", "--quiet", "-am", "second"])
            _ = try await git(["tag", "-a", "v1.0.0", "-m", "one"])
            let second = try await git(["rev-parse", "HEAD"]), tagObject = try await git(["rev-parse", "v1.0.0"])
            let tagPush = "{\"object_kind\":\"tag_push\",\"ref\":\"refs/tags/v1.0.0\",\"after\":\"\(tagObject)\",\"checkout_sha\":\"\(second)\"}"
            let wrongToken = try await Self.post(api, "/hooks/gitlab", [("X-Gitlab-Event", "Tag Push Hook"), ("X-Gitlab-Event-UUID", "g-0"),
                                                                       ("X-Gitlab-Token", "gh-secret-for-tests")], tagPush)
            #expect(wrongToken.status == 401)
            let tagged = try await Self.post(api, "/hooks/gitlab", [("X-Gitlab-Event", "Tag Push Hook"), ("X-Gitlab-Event-UUID", "g-1"),
                                                                   ("X-Gitlab-Token", "gl-token-for-tests")], tagPush)
            #expect(tagged.status == 201, "\(tagged.status) \(tagged.bodyText)")
            let tagResult = try SlipwayJSON.decoder().decode(WebhookResult.self, from: Data(tagged.body))
            let tagDeployment = try await s.client.get("/v1/deployments/\(try #require(tagResult.actions.first?.deploymentId))", as: DeploymentProgress.self).deployment
            #expect(try await s.outcome(tagDeployment).state == .succeeded)
            let v1 = try #require((try await s.client.get("/v1/releases", as: [ReleaseInfo].self)).first { $0.version == "v1.0.0" })
            #expect(v1.gitCommit == second && v1.gitTag == "v1.0.0" && v1.gitBranch == "main", "\(v1)")
            let listed = try await s.cli(["releases"])
            #expect(listed.text.contains("main@\(first.prefix(12))") && listed.text.contains("main@\(second.prefix(12)) v1.0.0"), "\(listed)")

            // The branch gate: a release from outside git does not reach production; one built from main does.
            _ = try await s.release("hand-made")
            let refused = try await s.cli(["deploy", "hand-made", "--env", "production"])
            #expect(refused.status == 3 && refused.text.contains("release hand-made records no git commit"), "\(refused)")
            let fromMain = try await s.cli(["deploy", version, "--env", "production"])
            #expect(fromMain.status == 0, "\(fromMain)")

            // What the audit log says, and what it never holds.
            let audit = try await s.cli(["audit", "--json"])
            #expect(audit.text.contains("bad or missing signature from 127.0.0.1") && audit.text.contains("delivery d-1: refs/heads/main at \(first)"))
            let all = audit.text + accepted.bodyText + replay.bodyText + tagged.bodyText + wrongToken.bodyText
            #expect(!all.contains("gh-secret-for-tests") && !all.contains("gl-token-for-tests"), "a secret leaked")
        }
    }

    /// A build longer than the hook's `answer_within` is answered at once (202, the provider does not time out)
    /// and goes on in the daemon; when it fails, the delivery is forgotten and the provider's redelivery builds
    /// it again, and the deployment starts once the build is done.
    @Test(.timeLimit(.minutes(2)))
    func aSlowBuildIsAnsweredAtOnceAndDeploysWhenItIsDone() async throws {
        let api = try PortAllocator.freePort(), stagingPort = try PortAllocator.freePort()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-hooks-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (repo, git) = try await Self.repository(in: scratch)
        // The build waits for the test to open its gate, and fails when the gate says so.
        let gate = scratch + "/gate"
        let head = try await Self.commitBuild("while [ ! -e \(gate) ]; do sleep 0.05; done\nif [ \"$(cat \(gate))\" = fail ]; then rm \(gate); exit 1; fi\n",
                                              repo: repo, git: git)
        let s = try Sandbox(extra: """
            server: { listen: "127.0.0.1:\(api)" }
            release: { git: { repo: \(repo) }, build: "sh gated.sh" }
            environments:
              staging: { router: { listen: "127.0.0.1:\(stagingPort)" } }
              production: {}
            webhooks:
              - { provider: github, secret: GH_HOOK_SECRET, on: { push: main }, deploy_to: staging, answer_within: 200ms }
            """)
        try Self.writeSecrets(s)
        try await s.withRestartableDaemon { daemon in
            func deliver() async throws -> MiniHTTPClient.Response { try await Self.githubPush(api, delivery: "d-slow", commit: head) }
            let version = "main-\(head.prefix(12))"
            // The build cannot end before the gate opens: the answer came without it.
            let first = try await deliver()
            #expect(first.status == 202, "\(first.status) \(first.bodyText)")
            let pending = try SlipwayJSON.decoder().decode(WebhookResult.self, from: Data(first.body))
            #expect(pending.actions.map(\.version) == [version] && pending.actions.first?.deploymentId == nil && pending.outcome.hasPrefix("building \(version)"), "\(pending)")

            // The build fails after the answer: the delivery is forgotten, so the provider's redelivery is taken.
            try "fail".write(toFile: gate, atomically: true, encoding: .utf8)
            _ = try await poll(within: .seconds(30)) { () async throws -> Bool? in
                let audit: [AuditEntry] = try await s.client.get("/v1/audit?limit=50")
                return audit.contains { $0.action == "webhook" && $0.outcome == "failed" && $0.detail.contains("delivery d-slow") } ? true : nil
            }
            let again = try await deliver()
            #expect(again.status == 202, "a redelivery after the failed build: \(again.status) \(again.bodyText)")
            try "ok".write(toFile: gate, atomically: true, encoding: .utf8)
            let served = try await poll(within: .seconds(60)) { () async throws -> String? in
                let all: [EnvironmentStatus] = try await s.client.get("/v1/status")
                return all.first { $0.name == "staging" && $0.currentRelease == version }?.currentRelease
            }
            #expect(served == version)
            let history: [DeploymentInfo] = try await s.client.get("/v1/deployments?env=staging")
            #expect(history.first?.actor == "webhook:github" && history.first?.version == version, "\(history.map { "\($0.actor) \($0.version)" })")

            // A build under way when the daemon stops: the daemon does not wait for it (it is killed) and forgets the
            // delivery, so the provider's redelivery is taken once the daemon is back.
            try FileManager.default.removeItem(atPath: gate)
            try "next".write(toFile: repo + "/next.txt", atomically: true, encoding: .utf8)
            _ = try await git(["add", "next.txt"])
            _ = try await git(["commit", "--quiet", "-m", "next"])
            let next = try await git(["rev-parse", "HEAD"])
            func deliverNext() async throws -> MiniHTTPClient.Response { try await Self.githubPush(api, delivery: "d-stop", commit: next) }
            let building = try await deliverNext()
            #expect(building.status == 202, "\(building.status) \(building.bodyText)")
            try await daemon.restart(on: s)
            let redelivered = try await deliverNext()
            #expect(redelivered.status == 202, "the stopped build's delivery was forgotten: \(redelivered.status) \(redelivered.bodyText)")
            // The delivery that deployed stays recorded across the restart: its replay is still refused.
            let replay = try await deliver()
            #expect(replay.status == 409, "\(replay.status) \(replay.bodyText)")
        }
    }

    /// `kill -9` of the daemon during a webhook's build: the next start forgets the delivery (audited), so the
    /// provider's redelivery builds it instead of being refused as a replay.
    @Test(.timeLimit(.minutes(2)))
    func aBuildCutShortByACrashIsForgottenAtTheNextStart() async throws {
        let api = try PortAllocator.freePort()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-hooks-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (repo, git) = try await Self.repository(in: scratch)
        let head = try await Self.commitBuild("while [ ! -e \(scratch)/never ]; do sleep 0.05; done\n", repo: repo, git: git)
        let s = try Sandbox(extra: """
            server: { listen: "127.0.0.1:\(api)" }
            release: { git: { repo: \(repo) }, build: "sh gated.sh" }
            webhooks:
              - { provider: github, secret: GH_HOOK_SECRET, on: { push: main }, deploy_to: production, answer_within: 100ms }
            """)
        defer { s.removeFiles() }
        try Self.writeSecrets(s)
        func deliver() async throws -> MiniHTTPClient.Response { try await Self.githubPush(api, delivery: "d-crash", commit: head) }
        let first = try await RecoveryTests().startDaemon(s)
        let building = try await deliver()
        #expect(building.status == 202, "\(building.status) \(building.bodyText)")
        let ignored = try await Self.githubPush(api, delivery: "d-feature", commit: head, branch: "feature")
        #expect(ignored.status == 200, "no hook acts on feature: \(ignored.status) \(ignored.bodyText)")
        kill(first.pid, SIGKILL)
        _ = await ProcessSpawner.wait(first.pid)
        let second = try await RecoveryTests().startDaemon(s)
        let redelivered = try await deliver()
        #expect(redelivered.status == 202, "taken again, not refused as a replay: \(redelivered.status) \(redelivered.bodyText)")
        let replayed = try await Self.githubPush(api, delivery: "d-feature", commit: head, branch: "feature")
        #expect(replayed.status == 409, "an answered delivery stays refused as a replay: \(replayed.status) \(replayed.bodyText)")
        let audit: [AuditEntry] = try await s.client.get("/v1/audit?limit=50")
        #expect(audit.contains { $0.action == "webhook" && $0.outcome == "forgotten" && $0.detail.contains("github d-crash") }, "\(audit.map(\.detail))")
        await s.tearDown()
        kill(second.pid, SIGTERM)
        _ = await ProcessSpawner.wait(second.pid)
        s.killLeftovers()  // the first daemon's build, orphaned by the kill
    }
    /// `release.git.poll`, for a host no webhook reaches: the branch's head is built and deployed, a new commit is too,
    /// and each commit only once (nothing more while the branch stays where it is).
    @Test(.timeLimit(.minutes(2)))
    func aPolledBranchDeploysEachNewCommitOnceWithoutAWebhook() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-poll-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (repo, git) = try await Self.repository(in: scratch)
        let first = try await git(["rev-parse", "HEAD"])
        let s = try Sandbox(extra: """
            release: { git: { repo: \(repo), poll: { every: 1s, branch: main } }, build: "sh build.sh" }
            """)
        try await s.withDaemon { _ in
            let v1 = "main-\(first.prefix(12))"
            _ = try await poll(within: .seconds(30)) { () async throws -> Bool? in try await s.status().currentRelease == v1 ? true : nil }
            try "{\"ready\": true, \"latency_ms\": 1}".write(toFile: repo + "/demo-app.json", atomically: true, encoding: .utf8)
            _ = try await git(["commit", "--quiet", "-am", "second"])
            let second = try await git(["rev-parse", "HEAD"])
            let v2 = "main-\(second.prefix(12))"
            _ = try await poll(within: .seconds(30)) { () async throws -> Bool? in try await s.status().currentRelease == v2 ? true : nil }
            let built = try String(contentsOfFile: s.config.releasesDirectory + "/\(v2)/built-from.txt", encoding: .utf8)
            #expect(built == second)
            // Three polls more: the branch has not moved, nothing is deployed again.
            try await Task.sleep(for: .seconds(3))
            let history: [DeploymentInfo] = try await s.client.get("/v1/deployments")
            #expect(history.map(\.version).sorted() == [v1, v2].sorted() && history.allSatisfy { $0.state == .succeeded }, "\(history.map { "\($0.version) \($0.state)" })")
            let audit = try await s.cli(["audit"])
            #expect(audit.text.contains("git.poll") && audit.text.contains("main@\(second.prefix(12))"), "\(audit.text)")
            // A commit whose release never gets ready: deployed once, refused, and not tried again at every poll.
            try "{\"ready\": false}".write(toFile: repo + "/demo-app.json", atomically: true, encoding: .utf8)
            _ = try await git(["commit", "--quiet", "-am", "broken"])
            let v3 = "main-\(try await git(["rev-parse", "HEAD"]).prefix(12))"
            _ = try await poll(within: .seconds(30)) { () async throws -> Bool? in
                let all: [DeploymentInfo] = try await s.client.get("/v1/deployments")
                return all.contains { $0.version == v3 && $0.state.isTerminal } ? true : nil
            }
            try await Task.sleep(for: .seconds(3))
            let after: [DeploymentInfo] = try await s.client.get("/v1/deployments")
            let serving = try await s.status().currentRelease
            #expect(after.filter { $0.version == v3 }.count == 1 && serving == v2, "\(after.map { "\($0.version) \($0.state)" })")
        }
    }
}
