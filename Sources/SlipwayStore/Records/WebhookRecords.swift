import Foundation
import GRDB
import SlipwayCore

/// Webhook deliveries: recorded, settled, forgotten.
/// A view of the one store (`store.webhooks`): its writes are the store's transactions.
public struct WebhookRecords: StoreView {
    let store: SlipwayStore
}

extension SlipwayStore {
    /// Webhook deliveries: recorded, settled, forgotten.
    public var webhooks: WebhookRecords { WebhookRecords(store: self) }
}
