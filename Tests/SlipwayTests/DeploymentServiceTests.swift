import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayServer
import Testing

/// Deployments run in the daemon's DeploymentService: a graceful stop lets the step in progress finish
/// and leaves the deployment where the next start picks it up.
@Suite(.serialized)
struct DeploymentServiceTests {
    @Test(.timeLimit(.minutes(2)))
    func aGracefulStopFinishesTheCurrentStepAndTheNextStartEndsTheDeployment() async throws {
        let gate = MigrationGate()
        defer { gate.remove() }
        let s = try Sandbox(extra: gate.yaml)
        try await s.withRestartableDaemon { daemon in
            _ = try await s.release("v1")
            let d = try await s.deploy("v1")
            try await gate.waitUntilMigrating(d, s)
            // Stop while the migration runs; the migration (the current step) still finishes.
            let stopping = Task { [daemon] in await daemon.stop() }
            gate.open()
            await stopping.value
            #expect(gate.migrated, "the step in progress was cut short")

            // The next start finds it where it stopped and ends it (nothing was serving: refused, nothing changed).
            daemon = try await s.startDaemon()
            let after = try await s.outcome(d)
            #expect(after.state == .failed, "\(after)")
            #expect(after.message?.contains("interrupted by a daemon restart in state migrating, before any traffic moved") == true, "\(after.message ?? "")")
            let progress: DeploymentProgress = try await s.client.get("/v1/deployments/\(d.id)?after=0")
            #expect(!progress.events.contains { $0.state == .starting }, "no step ran after the stop")
            #expect(try await s.status().lock == nil)
        }
    }
}
