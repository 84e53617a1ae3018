import Foundation
import GRDB
import SlipwayCore

/// Backups as catalogued, their verifications and drills, and the last run of each schedule.
/// A view of the one store (`store.data`): its writes are the store's transactions.
public struct DataRecords: StoreView {
    let store: SlipwayStore
}

extension SlipwayStore {
    /// Backups as catalogued, their verifications and drills, and the last run of each schedule.
    public var data: DataRecords { DataRecords(store: self) }
}
