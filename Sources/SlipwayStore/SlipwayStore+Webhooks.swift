import Foundation
import GRDB
import SlipwayCore

extension SlipwayStore {
    /// Records a verified delivery before anything acts on it. A delivery id, or a body, that was received
    /// before is refused with when (a replay: the provider's signature covers the body, not the id).
    public func recordDelivery(provider: String, id: String, bodyDigest: String, now: Date = Date()) throws(SlipwayError) {
        let earlier: Date? = try write { db in
            if let seen = try Date.fetchOne(db, sql: """
                SELECT received_at FROM webhook_deliveries WHERE provider = ? AND (delivery_id = ? OR body_digest = ?)
                """, arguments: [provider, id, bodyDigest]) {
                return seen
            }
            try db.execute(sql: "INSERT INTO webhook_deliveries (provider, delivery_id, body_digest, received_at) VALUES (?, ?, ?, ?)",
                           arguments: [provider, id, bodyDigest, now])
            return nil
        }
        if let earlier {
            throw .policy("delivery \(id) (or the same payload) was already received at \(ISO8601DateFormatter().string(from: earlier)); a replay is refused")
        }
    }
}

extension SlipwayStore {
    /// A delivery that started nothing (its build failed, a gate refused) is forgotten, so the provider's
    /// "redeliver" tries again.
    public func forgetDelivery(provider: String, id: String) {
        try? write { db in try db.execute(sql: "DELETE FROM webhook_deliveries WHERE provider = ? AND delivery_id = ?", arguments: [provider, id]) }
    }
}
