import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct Promote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deploy VERSION to --to after every gate (promote_from and soak, windows, freezes); with approvals required it returns at once with {\"id\", \"state\": \"awaiting_approval\"} unless --wait.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The release version") var version: String
    @Option(help: "The environment to promote to") var to: String
    @Flag(help: "Wait for approvals and the deployment's end (exit 1 if it fails or is rejected)") var wait = false
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let client = try global.client()
        let d: DeploymentInfo = try await client.post("/v1/deployments", DeployRequest(version: version, environment: to, strategy: nil, kind: .deploy,
                                                                                        actor: DaemonClient.actor))
        if d.state == .awaitingApproval && !wait {
            if json { Output.json(["id": "\(d.id)", "state": d.state.rawValue]) } else {
                let status: ApprovalStatus = try await client.get("/v1/approvals/\(d.id)")
                print("deployment \(d.id): \(version) → \(to) awaits \(status.required) approval(s): slipway approve \(d.id)")
            }
            return
        }
        try await DeployFollower.follow(client: client, deployment: d, json: json)
    }
}

struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Approve a deploy awaiting approval (never your own); it starts by itself once it has enough.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The deployment id") var id: Int64
    @Option(help: "A note with the approval") var comment: String?
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let client = try global.client()
        let s: ApprovalStatus = try await client.post("/v1/approvals", ApprovalRequest(deploymentId: id, decision: "approve", comment: comment))
        if json { Output.json(s); return }
        print("deployment \(id): \(s.counting) of \(s.required) approval(s)" + (s.deployment.state == .awaitingApproval ? "" : "; \(s.deployment.state.rawValue)"))
    }
}

struct Reject: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reject a deploy awaiting approval: the request ends (failed) with your comment.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The deployment id") var id: Int64
    @Option(help: "Why (required)") var comment: String
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let client = try global.client()
        let s: ApprovalStatus = try await client.post("/v1/approvals", ApprovalRequest(deploymentId: id, decision: "reject", comment: comment))
        if json { Output.json(s); return }
        print("deployment \(id): rejected")
    }
}
