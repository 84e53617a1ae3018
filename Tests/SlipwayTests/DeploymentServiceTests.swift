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
        let gate = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-gate-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let s = try Sandbox(extra: """
            migrate:
              up: "/bin/sh -c 'while [ ! -f \(gate) ]; do sleep 0.05; done; echo migrated >> \(gate)'"
              timeout: 60s
            """)
        defer { s.removeFiles() }
        var daemon = try Daemon(config: s.config, routerExecutable: TestBinaries.slipway, logger: quietLogger(), handleSignals: false)
        var run = Task { [daemon] in try await daemon.run() }
        do {
            try await s.waitForDaemon()
            _ = try await s.release("v1")
            let d = try await s.deploy("v1")
            _ = try await poll(within: .seconds(10)) {
                let p: DeploymentProgress = try await s.client.get("/v1/deployments/\(d.id)?after=0")
                return p.deployment.state == .migrating ? true : nil
            }
            // Stop while the migration runs; the migration (the current step) still finishes.
            let stopping = Task { [daemon] in await daemon.shutdown() }
            _ = FileManager.default.createFile(atPath: gate, contents: nil)
            await stopping.value
            _ = try? await run.value
            #expect(try String(contentsOfFile: gate, encoding: .utf8) == "migrated\n", "the step in progress was cut short")

            // The next start finds it where it stopped and ends it (nothing was serving: refused, nothing changed).
            daemon = try Daemon(config: s.config, routerExecutable: TestBinaries.slipway, logger: quietLogger(), handleSignals: false)
            run = Task { [daemon] in try await daemon.run() }
            do { try await s.waitForDaemon() } catch {
                await daemon.shutdown()
                do { try await run.value } catch let e { Issue.record("the second daemon: \(e)") }
                throw error
            }
            let after = try await s.outcome(d)
            #expect(after.state == .failed, "\(after)")
            #expect(after.message?.contains("interrupted by a daemon restart in state migrating, before any traffic moved") == true, "\(after.message ?? "")")
            let progress: DeploymentProgress = try await s.client.get("/v1/deployments/\(d.id)?after=0")
            #expect(!progress.events.contains { $0.state == .starting }, "no step ran after the stop")
            #expect(try await s.status().lock == nil)
        } catch {
            await s.tearDown()
            await daemon.shutdown()
            _ = try? await run.value
            throw error
        }
        await s.tearDown()
        await daemon.shutdown()
        _ = try? await run.value
    }
}
