/// The persisted state of a deployment. Every transition is written to the store before it acts.
///
/// ```
/// pending → [backing_up] → [migrating | restoring_data] → [stopping_old (recreate)] → starting → verifying → [canary] → switching → draining → succeeded
///                      ↘ failed (refused before any traffic moved; the old release kept serving)
///                      ↘ rolling_back → rolled_back (traffic or instances had changed and were restored)
/// ```
public enum DeploymentState: String, Codable, Sendable, CaseIterable {
    case pending
    /// Waiting for `approvals.required` approvals (no lock held; survives restarts).
    case awaitingApproval = "awaiting_approval"
    case backingUp = "backing_up"
    case migrating
    /// `rollback --with-data`: the pre-deploy backup is being restored in place.
    case restoringData = "restoring_data"
    case stoppingOld = "stopping_old"
    case starting
    case verifying
    /// A canary serves part of the traffic beside the stable release, step by step.
    case canary
    case switching
    case draining
    case succeeded
    case failed
    case rollingBack = "rolling_back"
    case rolledBack = "rolled_back"

    public var isTerminal: Bool { self == .succeeded || self == .failed || self == .rolledBack }

    public var allowedNext: Set<DeploymentState> {
        switch self {
        case .pending: [.awaitingApproval, .backingUp, .migrating, .stoppingOld, .starting, .failed]
        case .awaitingApproval: [.backingUp, .migrating, .stoppingOld, .starting, .failed]
        case .backingUp: [.migrating, .restoringData, .stoppingOld, .starting, .failed]
        case .restoringData: [.stoppingOld, .starting, .failed]
        case .migrating: [.stoppingOld, .starting, .failed]
        case .stoppingOld: [.starting, .rollingBack]
        case .starting: [.verifying, .failed, .rollingBack]
        case .verifying: [.switching, .canary, .failed, .rollingBack]
        case .canary: [.switching, .rollingBack]
        case .switching: [.draining, .rollingBack]
        case .draining: [.succeeded, .rollingBack]
        case .rollingBack: [.rolledBack, .failed]
        case .succeeded, .failed, .rolledBack: []
        }
    }

    public func transition(to next: DeploymentState) throws(SlipwayError) -> DeploymentState {
        guard allowedNext.contains(next) else {
            throw SlipwayError(.internal, "invalid deployment transition \(rawValue) → \(next.rawValue)")
        }
        return next
    }
}

/// What the daemon does, on start, with a deployment that a crash interrupted.
public enum RecoveryAction: Equatable, Sendable {
    /// Complete it: the new release is serving and healthy.
    case finish
    /// Put the previous release back (or keep it) and record the deployment as rolled back.
    case rollBack
    /// Continue a canary at the step it was in (its instances are alive and ready).
    case resume
}

public enum DeploymentRecovery {
    /// Decides how an interrupted deployment ends: never half-switched.
    /// - Parameters:
    ///   - routerServesNew: the router's persisted table points at the new release.
    ///   - newInstancesReady: every instance of the new release answers its readiness check.
    public static func action(for state: DeploymentState, routerServesNew: Bool, newInstancesReady: Bool) -> RecoveryAction {
        switch state {
        case .awaitingApproval: .finish
        case .pending, .backingUp, .migrating, .restoringData, .stoppingOld, .starting, .verifying, .rollingBack: .rollBack
        case .canary: newInstancesReady ? .resume : .rollBack
        case .switching: routerServesNew && newInstancesReady ? .finish : .rollBack
        case .draining: routerServesNew ? .finish : .rollBack
        case .succeeded, .failed, .rolledBack: .finish
        }
    }
}
