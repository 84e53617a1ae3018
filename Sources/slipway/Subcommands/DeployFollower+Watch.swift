import Foundation
import SlipwayClient
import SlipwayCore

extension DeployFollower {
    /// `deploy --watch`: follows the post-deploy watch to its end, printing its figures every few seconds.
    /// Ends with exit 1 if the watch rolled the release back.
    static func watch(client: DaemonClient, deployment d: DeploymentInfo, json: Bool) async throws {
        var lastLine = ""
        var lastPrint = ContinuousClock.now - .seconds(60)
        /// When the CLI first saw the watch decide to roll back (it waits up to 30 s for the rollback to appear).
        var decided: ContinuousClock.Instant?
        while true {
            let list: [EnvironmentStatus] = try await client.get("/v1/status?env=\(d.environment)")
            guard let s = list.first else { return }
            if let w = s.watch, w.deploymentId == d.id {
                let line = w.last ?? "waiting for the first figures"
                if line != lastLine, ContinuousClock.now - lastPrint >= .seconds(5) {
                    say("  watching \(w.release) (\(Output.age(max(0, Int(w.until.timeIntervalSinceNow)))) left): \(line)", json: json)
                    lastLine = line
                    lastPrint = ContinuousClock.now
                }
                try await Task.sleep(for: .seconds(1))
                continue
            }
            // The watch ends before its rollback starts (the reason is noted on the deployment first): wait for it.
            let history: [DeploymentInfo] = try await client.get("/v1/deployments?env=\(d.environment)&limit=10")
            let rollback = history.first { $0.id > d.id && $0.kind == .rollback }
            let noted: DeploymentProgress = try await client.get("/v1/deployments/\(d.id)?after=0")
            let rollingBack = noted.events.contains { $0.detail.hasPrefix("the watch rolls back to") }
            if rollback.map({ !$0.state.isTerminal }) ?? (rollingBack && ContinuousClock.now < (decided ?? .now) + .seconds(30)) {
                if decided == nil { decided = .now }
                try await Task.sleep(for: .milliseconds(250))
                continue
            }
            if s.currentRelease == d.version, rollback == nil, !rollingBack {
                say("✓ the watch is over: \(d.version) stays on \(d.environment)", json: json)
                return
            }
            // Rolled back (by the watch, or by someone): say by whom and why.
            let why = rollback.map { "rolled back to \($0.version) by \($0.actor)" } ?? "\(s.currentRelease ?? "nothing") serves \(d.environment) now"
            var reason = ""
            if let rollback {
                let p: DeploymentProgress = try await client.get("/v1/deployments/\(rollback.id)?after=0")
                reason = p.events.first.map { ": \($0.detail)" } ?? ""
            }
            throw SlipwayError(.failed, "the watch of \(d.version) on \(d.environment) ended: \(why)\(reason)")
        }
    }
}
