import SlipwayCore

/// What a fleet deploy or rollback did, per host (`slipway deploy --json` on a fleet environment).
public struct FleetOutcome: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case succeeded, failed, rolledBack = "rolled_back", partial, refused
        /// A fleet canary passed with `promote: manual`: the canary hosts serve the release, the others wait for
        /// `deploy resume ID` (or `deploy rollback ID`).
        case awaitingPromotion = "awaiting_promotion"
    }
    public enum Phase: String, Codable, Sendable { case preflight, lease, stage, activate, revert }
    public struct Host: Codable, Sendable, Equatable {
        public enum State: String, Codable, Sendable {
            case untouched, unreachable, skipped, staged, activated, failed, reverted
            /// Lost while activating: what it serves is not known until it answers again.
            case unknown
            case revertFailed = "revert_failed"
        }
        public var host: String
        public var state: State
        public var current: String?
        public var message: String
    }
    public var deployment: String
    public var environment: String
    public var version: String
    public var state: State
    /// Where it ended: before anything changed (preflight, lease, stage) or while activating or reverting.
    public var phase: Phase
    public var epoch: Int64
    public var hosts: [Host]
    public var message = ""

    /// 0 succeeded (a deploy), a canary awaiting promotion, or rolled back (`deploy rollback ID`), 3 refused (the lock is
    /// someone else's), else 1.
    public var exitCode: Int32 {
        switch state {
        case .succeeded, .awaitingPromotion: 0
        case .rolledBack where phase == .revert: 0
        case .refused: 3
        default: 1
        }
    }
}
