import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// What happened and what is, read-only: status, history and progress, locks, DORA (`slipway report`, the
/// dashboard's trend), the `/metrics` page and the apps' own logs. It reads the store, the router's counters and the releases on disk, and writes nothing.
public struct Reports: Sendable, FeatureObject {
    let context: EngineContext
    /// For the instances' last CPU and memory readings.
    let signals: Signals
    /// For the accessories in `status`.
    let accessories: Accessories
    /// For the process types in `status`.
    let processTypes: ProcessTypes

    /// `slipway report`: DORA for one environment over the last `since` (default 90 days).
    public func report(environment: String?, since: Duration?, now: Date = Date()) throws(SlipwayError) -> DORAReport {
        let env = try config.environment(environment)
        let period = since ?? .seconds(90 * 86_400)
        guard period > .zero else { throw .usage("--since: expected a positive duration like 30d") }
        let from = now.addingTimeInterval(-period.seconds)
        let (deployments, incidents, commits) = try reportInputs(env.name)
        return DORAReport.compute(environment: env.name, deployments: deployments, incidents: incidents, commitTimes: commits, from: from, to: now)
    }

    /// The report over the last `since`, and DORA over time: `points` reports, one per `step` ending now and going
    /// back, each over the `window` before its end (the dashboard: 90 days, then 12 weekly points of the 30 days
    /// before each). The trend is oldest first; both from one read of the store.
    public func reportWithTrend(environment: String?, since: Duration, points: Int, step: TimeInterval, window: TimeInterval,
                                now: Date = Date()) throws(SlipwayError) -> (report: DORAReport, trend: [DORAReport]) {
        let env = try config.environment(environment)
        let (deployments, incidents, commits) = try reportInputs(env.name)
        let report = DORAReport.compute(environment: env.name, deployments: deployments, incidents: incidents, commitTimes: commits,
                                        from: now.addingTimeInterval(-since.seconds), to: now)
        let trend = DORAReport.trend(environment: env.name, deployments: deployments, incidents: incidents, commitTimes: commits,
                                     points: points, step: step, window: window, end: now)
        return (report, trend)
    }

    private func reportInputs(_ name: String) throws(SlipwayError) -> ([DeploymentInfo], [IncidentInfo], [String: Date]) {
        (try store.deployments(environment: name, limit: 100_000), try store.signals.incidents(environment: name, limit: 100_000), commitTimes())
    }

    /// Commit times of the releases still on disk (a pruned release's lead time is not known).
    public func commitTimes() -> [String: Date] {
        var commits: [String: Date] = [:]
        for r in releases.list() { if let t = r.gitCommitTime { commits[r.version] = t } }
        return commits
    }
}
