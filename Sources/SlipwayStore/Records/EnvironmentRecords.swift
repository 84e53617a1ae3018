import Foundation
import GRDB
import SlipwayCore

/// The environment's row, changed for one reason each: traffic between releases (canary, rollout, switch,
/// revert) and maintenance, canary commands, the scaled count, the watch, bad releases.
/// A view of the one store (`store.environments`): its writes are the store's transactions.
public struct EnvironmentRecords: StoreView {
    let store: SlipwayStore
}

extension SlipwayStore {
    /// The environment's row, changed for one reason each: traffic between releases (canary, rollout, switch
    public var environments: EnvironmentRecords { EnvironmentRecords(store: self) }
}
