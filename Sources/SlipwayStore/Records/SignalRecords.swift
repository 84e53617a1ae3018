import Foundation
import GRDB
import SlipwayCore

/// Alert states and silences, incidents, and the notifications' outbox.
/// A view of the one store (`store.signals`): its writes are the store's transactions.
public struct SignalRecords: StoreView {
    let store: SlipwayStore
}

extension SlipwayStore {
    /// Alert states and silences, incidents, and the notifications' outbox.
    public var signals: SignalRecords { SignalRecords(store: self) }
}
