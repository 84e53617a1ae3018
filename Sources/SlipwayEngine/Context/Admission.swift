import Foundation
import SlipwayCore
import Synchronization

/// The checks every change must pass before it starts (`Policy`), and how the lease that keeps two changes
/// of one environment apart lives (`LeaseSettings`; tests shorten it). Shared by every feature through the
/// context; `EngineContext.admit` and `EngineContext.withLease` use it.
public final class Admission: Sendable {
    public let policy: Policy
    private let lease: Mutex<LeaseSettings>

    init(policy: Policy = Policy(), lease: LeaseSettings = LeaseSettings()) {
        self.policy = policy
        self.lease = Mutex(lease)
    }

    public var leaseSettings: LeaseSettings {
        get { lease.withLock { $0 } }
        set { lease.withLock { $0 = newValue } }
    }
}
