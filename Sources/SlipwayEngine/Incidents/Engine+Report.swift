import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Engine {
    /// `slipway report`: DORA for one environment over the last `since` (default 90 days).
    public func report(environment: String?, since: Duration?, now: Date = Date()) throws(SlipwayError) -> DORAReport {
        let env = try config.environment(environment)
        let period = since ?? .seconds(90 * 86_400)
        guard period > .zero else { throw .usage("--since: expected a positive duration like 30d") }
        let from = now.addingTimeInterval(-period.seconds)
        let deployments = try store.deployments(environment: env.name, limit: 100_000)
        let incidents = try store.incidents(environment: env.name, limit: 100_000)
        // Commit times of the releases still on disk (a pruned release's lead time is not known).
        var commits: [String: Date] = [:]
        for r in releases.list() { if let t = r.gitCommitTime { commits[r.version] = t } }
        return DORAReport.compute(environment: env.name, deployments: deployments, incidents: incidents, commitTimes: commits, from: from, to: now)
    }
}
