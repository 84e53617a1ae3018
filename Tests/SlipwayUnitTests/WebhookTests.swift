import Foundation
import SlipwayClient
import SlipwayCore
@testable import SlipwayEngine
import SlipwayHTTP
import SlipwayRuntime
import Testing

/// Webhooks: the provider's signature is the only credential; a matching push builds that commit into a
/// release and deploys it through every gate.
@Suite(.serialized)
struct WebhookTests {
    @Test func githubSignaturesAreCheckedAsGitHubDocumentsThem() {
        // The example in GitHub's "Validating webhook deliveries".
        let body = Array("Hello, World!".utf8), secret = "It's a Secret to Everybody"
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        #expect(WebhookSignature.verify(.github, secret: secret, headers: ["x-hub-signature-256": good], body: body))
        #expect(WebhookSignature.githubHeader(secret: secret, body: body) == good)
        #expect(!WebhookSignature.verify(.github, secret: secret, headers: ["x-hub-signature-256": good], body: Array("Hello, World?".utf8)))
        #expect(!WebhookSignature.verify(.github, secret: "other", headers: ["x-hub-signature-256": good], body: body))
        #expect(!WebhookSignature.verify(.github, secret: secret, headers: [:], body: body))
        #expect(!WebhookSignature.verify(.github, secret: secret, headers: ["x-hub-signature-256": "sha1=" + good.dropFirst(7)], body: body))
        #expect(WebhookSignature.verify(.gitlab, secret: "tok", headers: ["x-gitlab-token": "tok"], body: body))
        #expect(!WebhookSignature.verify(.gitlab, secret: "tok", headers: ["x-gitlab-token": "tok "], body: body))
        #expect(!WebhookSignature.verify(.gitlab, secret: "", headers: ["x-gitlab-token": ""], body: body))
    }

    @Test func deliveriesAreReadAsEachProviderSendsThem() throws {
        let sha = String(repeating: "ab", count: 20)
        let push = try WebhookDelivery(provider: .github, headers: ["x-github-delivery": "d1", "x-github-event": "push"],
                                       body: Array("{\"ref\":\"refs/heads/main\",\"after\":\"\(sha)\",\"deleted\":false}".utf8))
        #expect(push.id == "d1" && push.event == .ref(ref: "refs/heads/main", commit: sha))
        let deleted = try WebhookDelivery(provider: .github, headers: ["x-github-delivery": "d2", "x-github-event": "push"],
                                          body: Array("{\"ref\":\"refs/heads/x\",\"after\":\"\(String(repeating: "0", count: 40))\",\"deleted\":true}".utf8))
        #expect(deleted.event == .ignored("refs/heads/x was deleted"))
        let tag = try WebhookDelivery(provider: .gitlab, headers: ["x-gitlab-event-uuid": "u1", "x-gitlab-event": "Tag Push Hook"],
                                      body: Array("{\"object_kind\":\"tag_push\",\"ref\":\"refs/tags/v1\",\"checkout_sha\":\"\(sha)\",\"after\":\"\(String(repeating: "cd", count: 20))\"}".utf8))
        #expect(tag.event == .ref(ref: "refs/tags/v1", commit: sha), "GitLab's checkout_sha is the commit")
        #expect(throws: SlipwayError.self) { try WebhookDelivery(provider: .github, headers: ["x-github-event": "push"], body: []) }
        let ping = try WebhookDelivery(provider: .github, headers: ["x-github-delivery": "d3", "x-github-event": "ping"], body: Array("{}".utf8))
        #expect(ping.event == .ping)
    }

    @Test func refPatternsMatchLikeCIFilters() {
        #expect(GlobPattern("release/*").matches("release/1.2"))
        #expect(!GlobPattern("release/*").matches("release/1.2/hotfix"))
        #expect(GlobPattern("release/**").matches("release/1.2/hotfix"))
        #expect(GlobPattern("v*").matches("v1.0.0") && !GlobPattern("v*").matches("x1"))
        #expect(GlobPattern("main").matches("main") && !GlobPattern("main").matches("main2"))
        let hook = WebhookSettings(provider: .github, secret: "S", on: .tag([GlobPattern("v*")]), deployTo: "staging")
        #expect(hook.matches(ref: "refs/tags/v2") && !hook.matches(ref: "refs/heads/v2"))
    }

    @Test func theBranchGateTakesOnlyCleanBuildsOfItsBranches() {
        var facts = PolicyFacts(lock: nil, lockTTL: 30, now: Date())
        facts.governance.branches = [GlobPattern("main"), GlobPattern("release/*")]
        let request = PolicyRequest(operation: .deploy, environment: "production", version: "v1", actor: .daemon("t"))
        func verdict(_ branch: String?, dirty: Bool = false, commit: String? = "c") -> PolicyDecision {
            var r = ReleaseInfo(version: "v1", digest: "d", createdAt: Date(), creator: "t", gitCommit: commit, files: 1, bytes: 1)
            r.gitBranch = branch
            r.gitDirty = dirty
            facts.release = r
            return BranchCheck().evaluate(request, facts)
        }
        #expect(verdict("main") == .allow && verdict("release/2.0") == .allow)
        guard case .refuse(let why) = verdict("feature/x") else { Issue.record("another branch passed"); return }
        #expect(why.reason == "release v1 was built from branch 'feature/x'; 'production' takes only main, release/*")
        #expect(verdict("main", dirty: true) != .allow, "a dirty tree passed")
        #expect(verdict(nil) != .allow && verdict(nil, commit: nil) != .allow)
        #expect(BranchCheck().evaluate(PolicyRequest(operation: .rollback, environment: "production", version: "v1", actor: .daemon("t")), facts) == .allow)
    }

    @Test func badWebhookConfigIsNamedByFileLineAndKey() {
        let yaml = """
            app: shop
            process: { command: x }
            order: 1
            webhooks:
              - { provider: bitbucket, secret: "s3cr3t value", on: { push: main, tag: v1 }, deploy_to: nowhere }
            branches: ["refs/heads/main"]
            """
        do {
            _ = try ConfigLoader.parse(yaml: yaml, file: "slipway.yml", directory: "/tmp")
            Issue.record("accepted")
        } catch {
            let text = error.description
            #expect(text.contains("slipway.yml:3:1: order: unknown key"), "order is per environment: \(text)")
            #expect(text.contains("webhooks: webhooks build releases from git: add release.git"), "\(text)")
            #expect(text.contains("webhooks[0].provider: expected github or gitlab, got 'bitbucket'"), "\(text)")
            #expect(text.contains("webhooks[0].secret: expected the NAME of a secret"), "\(text)")
            #expect(!text.contains("s3cr3t value"), "a secret value was echoed")
            #expect(text.contains("webhooks[0].on: expected one of push: BRANCH or tag: PATTERN"), "\(text)")
            #expect(text.contains("webhooks[0].deploy_to: expected an environment (production), got 'nowhere'"), "\(text)")
            #expect(text.contains("branches[0]: expected a branch name or pattern"), "\(text)")
        }
        let ordered = """
            app: shop
            process: { command: x }
            environments:
              production: { order: 2, promote_from: staging, router: { listen: 127.0.0.1:8101 } }
              staging: { order: 1, router: { listen: 127.0.0.1:8100 } }
            """
        #expect((try? ConfigLoader.parse(yaml: ordered, file: "slipway.yml", directory: "/tmp"))?.environmentNames == ["staging", "production"])
        do {
            _ = try ConfigLoader.parse(yaml: ordered.replacingOccurrences(of: "order: 1", with: "order: 3"), file: "slipway.yml", directory: "/tmp")
            Issue.record("a source environment ordered after its target was accepted")
        } catch {
            #expect(error.description.contains("environments.production.order: 'production' (order 2) promotes from 'staging' (order 3)"), "\(error.description)")
        }
    }
}
