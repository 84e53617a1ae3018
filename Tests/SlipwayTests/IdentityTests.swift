import Foundation
import SlipwayClient
import SlipwayCore
import Testing

/// Who asked is what the kernel says about the admin socket's peer, not what the client claims.
@Suite(.serialized)
struct IdentityTests {
    /// This test process's OS user name, as the daemon should record it.
    static var osUser: String {
        guard let pw = getpwuid(getuid()), let name = pw.pointee.pw_name else { return "uid \(getuid())" }
        return String(cString: name)
    }

    @Test(.timeLimit(.minutes(2)))
    func theAuditLogAndHistoryNameTheOSUserAndKeepTheClaimAsANote() async throws {
        let s = try Sandbox()
        try await s.withDaemon { _ in
            _ = try await s.client.post("/v1/releases", ReleaseCreateRequest(version: "v1", from: try Self.source(s), actor: "mallory"), as: ReleaseInfo.self)
            let d: DeploymentInfo = try await s.client.post("/v1/deployments", DeployRequest(version: "v1", environment: nil, strategy: nil,
                                                                                           kind: .deploy, actor: "mallory"))
            #expect(try await s.outcome(d).state == .succeeded)
            let history: [DeploymentInfo] = try await s.client.get("/v1/deployments")
            #expect(history.first?.actor == Self.osUser, "history names the OS user")
            #expect(history.first?.onBehalfOf == "mallory", "the claim is kept only as a note")
            let audit: [AuditEntry] = try await s.client.get("/v1/audit")
            let deploys = audit.filter { $0.action == "deploy" }
            #expect(!deploys.isEmpty)
            #expect(deploys.allSatisfy { $0.actor == Self.osUser && $0.onBehalfOf == "mallory" }, "\(deploys)")
            #expect(!audit.contains { $0.actor == "mallory" }, "a claim never becomes the actor")
            // Without a claim there is no note.
            let _: EnvironmentStatus = try await s.client.post("/v1/maintenance", MaintenanceRequest(environment: nil, action: .off, actor: ""))
            let latest: [AuditEntry] = try await s.client.get("/v1/audit?limit=1")
            #expect(latest.first?.action == "maintenance.off" && latest.first?.actor == Self.osUser && latest.first?.onBehalfOf == nil)
        }
    }

    static func source(_ s: Sandbox) throws -> String {
        let src = s.dir + "/src-identity"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        try "{\"ready\": true}".write(toFile: src + "/demo-app.json", atomically: true, encoding: .utf8)
        return src
    }
}
