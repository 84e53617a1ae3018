import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayEngine
import SlipwayHTTP
import SlipwayRuntime

extension DemoRunner {
    /// 7: a commit on main reaches the daemon as GitHub would send it: a forged request is refused, the
    /// signed one is exported, built into a release and deployed blue-green while the load runs.
    func webhookStep() async throws -> (version: String, time: String) {
        let repo = directory + "/repo"
        func git(_ args: [String]) async throws -> String {
            let out = directory + "/git.out"
            let status = try await ProcessSpawner.run(argv: ["git", "-C", repo, "-c", "user.name=Demo", "-c", "user.email=demo@example.com"] + args,
                                                      directory: repo, environment: ProcessInfo.processInfo.environment, logFile: out)
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: out)
            guard status == 0 else { throw SlipwayError.failed("git \(args.first ?? ""): \(text)") }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try await git(["init", "--quiet", "--initial-branch=main"])
        try "{\"ready\": true, \"latency_ms\": 2, \"note\": \"built from git by a webhook\"}\n".write(toFile: repo + "/demo-app.json", atomically: true, encoding: .utf8)
        _ = try await git(["add", "."])
        _ = try await git(["commit", "--quiet", "-m", "demo: a change on main"])
        let commit = try await git(["rev-parse", "HEAD"])
        let body = "{\"ref\":\"refs/heads/main\",\"after\":\"\(commit)\",\"deleted\":false}"
        func send(_ delivery: String, secret: String) async throws -> MiniHTTPClient.Response {
            try await MiniHTTPClient().request("POST", .tcp(host: "127.0.0.1", port: apiPort), path: "/hooks/github", headers: [
                ("Content-Type", "application/json"), ("X-GitHub-Event", "push"), ("X-GitHub-Delivery", delivery),
                ("X-Hub-Signature-256", WebhookSignature.githubHeader(secret: secret, body: Array(body.utf8))),
            ], body: Array(body.utf8), timeout: .seconds(120))
        }
        let forged = try await send("demo-forged", secret: "a guess")
        let start = ContinuousClock.now
        let signed = try await send("demo-1", secret: hookSecret)
        let result = try SlipwayJSON.decoder().decode(WebhookResult.self, from: Data(signed.body))
        guard signed.status == 201, let action = result.actions.first, let id = action.deploymentId else {
            throw SlipwayError(.failed, "the signed push was not deployed: \(signed.status) \(signed.bodyText)")
        }
        var d: DeploymentInfo = try await client.get("/v1/deployments/\(id)?after=\(Int64.max)", as: DeploymentProgress.self).deployment
        while !d.state.isTerminal {
            try await Task.sleep(for: .milliseconds(50))
            d = try await client.get("/v1/deployments/\(id)?after=\(Int64.max)", as: DeploymentProgress.self).deployment
        }
        let took = String(format: "%.2fs", (ContinuousClock.now - start).seconds)
        say("7. git push to main (GitHub webhook): a forged signature got \(forged.status); the signed one built \(action.version) "
            + "from \(commit.prefix(12)) and deployed it blue-green: \(d.state.rawValue) in \(took) (build included)")
        guard forged.status == 401, d.state == .succeeded else { throw SlipwayError(.failed, "the webhook step ended \(d.state.rawValue)") }
        return (action.version, took)
    }

    /// 8: every change above is in the hash-chained audit log, with who, with which role and from where.
    func auditStep() async throws {
        let entries: [AuditEntry] = try await client.get("/v1/audit?limit=500")
        let check: AuditVerification = try await client.get("/v1/audit/verify")
        let hooks = entries.filter { $0.action == "webhook" }.map { "\($0.outcome) from \($0.source ?? "?")" }
        say("8. audit log: \(check.entries) entries, hash chain \(check.ok ? "intact" : "BROKEN at \(check.firstBad ?? 0)") (slipway audit verify); "
            + "webhooks: \(hooks.reversed().joined(separator: ", "))")
        guard check.ok else { throw SlipwayError(.failed, "the audit chain does not verify") }
    }
}
