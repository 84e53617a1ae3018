import Foundation

/// An automatic rollback: the release and deployment that went bad, and the deployment that put the release
/// before it back (the same deployment when a deploy reverted itself: a failed gate, the canary's analysis,
/// a hook). A person's `canary abort` or `slipway rollback` is not one. Pure.
public struct AutomaticRollback: Sendable, Equatable {
    /// The release that went bad and the deployment that brought it.
    public var release: String
    public var deploymentId: Int64?
    /// When the bad release began to take traffic (its deploy's start, or the switch the watch undid).
    public var since: Date?
    /// The deployment that rolled back: the mitigation.
    public var rollback: DeploymentInfo

    public init(release: String, deploymentId: Int64?, since: Date?, rollback: DeploymentInfo) {
        self.release = release
        self.deploymentId = deploymentId
        self.since = since
        self.rollback = rollback
    }

    /// The newest automatic rollback that ended within `window` before `now`, from an environment's
    /// deployments (newest first, as the store lists them).
    public static func latest(in deployments: [DeploymentInfo], now: Date, window: TimeInterval = 600) -> AutomaticRollback? {
        for d in deployments {
            guard let end = d.finishedAt, now.timeIntervalSince(end) < window else { continue }
            if let found = of(d, among: deployments) { return found }
        }
        return nil
    }

    /// `d` as an automatic rollback, if it is one.
    public static func of(_ d: DeploymentInfo, among deployments: [DeploymentInfo]) -> AutomaticRollback? {
        switch (d.kind, d.state) {
        case (.deploy, .rolledBack):
            // Stored before end reasons were recorded (nil): every revert counted as automatic then.
            guard d.endReason == nil || d.endReason == .reverted else { return nil }
            return AutomaticRollback(release: d.version, deploymentId: d.id, since: d.startedAt, rollback: d)
        case (.rollback, .succeeded):
            // The watch's rollback: it names the deployment it undoes (older rows: the watch as its actor).
            guard d.undoes != nil || d.actor == "watch", let bad = d.previousVersion else { return nil }
            let undone = d.undoes.flatMap { id in deployments.first { $0.id == id } }
                ?? deployments.first { $0.id < d.id && $0.kind == .deploy && $0.version == bad && $0.state == .succeeded }
            return AutomaticRollback(release: bad, deploymentId: d.undoes ?? undone?.id, since: undone?.finishedAt, rollback: d)
        default:
            return nil
        }
    }
}
