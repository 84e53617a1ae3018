/// How often the daemon's periodic work runs, named in one place. The daemon runs `.standard`; tests that
/// wait for an alert, an approved deploy or a notification run `.brisk`, so they wait on the rules' own
/// times (`for`, `repeat`, `group_wait`) rather than on the loops that look at them.
public struct Cadence: Sendable {
    /// Instances, readiness, warm standbys, the post-deploy watch.
    public var supervision: Duration = .milliseconds(250)
    /// Alerts judged, traffic history recorded, autoscaling decided.
    public var alerts: Duration = .seconds(2)
    /// Approved deploys that could not start yet try again.
    public var approvals: Duration = .milliseconds(2500)
    /// The router process restarted if it died.
    public var routerLiveness: Duration = .seconds(2)
    /// The event log and the log files pruned.
    public var retention: Duration = .seconds(3600)
    /// The notifications' outbox fed from the event log and delivered.
    public var notifications: Duration = .milliseconds(500)
    /// Accessories kept running (a dead one noticed and started again after its back-off).
    public var accessories: Duration = .milliseconds(500)
    /// The unrouted process types kept running and on their environment's release.
    public var processTypes: Duration = .milliseconds(500)

    public init() {}

    public static let standard = Cadence()

    /// For tests: the loops that only notice (alerts, approvals, notifications) look four to ten times as often.
    public static var brisk: Cadence {
        var c = Cadence()
        c.alerts = .milliseconds(250)
        c.approvals = .milliseconds(250)
        c.notifications = .milliseconds(100)
        return c
    }
}
