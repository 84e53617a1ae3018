import Foundation
import GRDB
import SlipwayCore

/// API tokens (stored as hashes) and the audit log read back.
/// A view of the one store (`store.access`): its writes are the store's transactions.
public struct AccessRecords: StoreView {
    let store: SlipwayStore
}

extension SlipwayStore {
    /// API tokens (stored as hashes) and the audit log read back.
    public var access: AccessRecords { AccessRecords(store: self) }
}
