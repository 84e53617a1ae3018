import Foundation
import GRDB
import SlipwayCore

extension WebhookRecords {
    /// Records a verified delivery before anything acts on it, unsettled until it starts a deployment (or is
    /// forgotten). A delivery id, or a body, that was received before is refused with when (a replay: the
    /// provider's signature covers the body, not the id).
    public func recordDelivery(provider: String, id: String, bodyDigest: String, now: Date = Date()) throws(SlipwayError) {
        let earlier: Date? = try write { db in
            if let seen = try Date.fetchOne(db, sql: """
                SELECT received_at FROM webhook_deliveries WHERE provider = ? AND (delivery_id = ? OR body_digest = ?)
                """, arguments: [provider, id, bodyDigest]) {
                return seen
            }
            try db.execute(sql: "INSERT INTO webhook_deliveries (provider, delivery_id, body_digest, received_at, settled) VALUES (?, ?, ?, ?, 0)",
                           arguments: [provider, id, bodyDigest, now])
            return nil
        }
        if let earlier {
            throw .policy("delivery \(id) (or the same payload) was already received at \(ISO8601DateFormatter().string(from: earlier)); a replay is refused")
        }
    }
}

extension WebhookRecords {
    /// A delivery that started nothing (its build failed, a gate refused) is forgotten, so the provider's
    /// "redeliver" tries again.
    public func forgetDelivery(provider: String, id: String) throws(SlipwayError) {
        try write { db in try db.execute(sql: "DELETE FROM webhook_deliveries WHERE provider = ? AND delivery_id = ?", arguments: [provider, id]) }
    }

    /// A delivery that started a deployment stays: a replay of it is refused from now on.
    public func settleDelivery(provider: String, id: String) throws(SlipwayError) {
        try write { db in try db.execute(sql: "UPDATE webhook_deliveries SET settled = 1 WHERE provider = ? AND delivery_id = ?", arguments: [provider, id]) }
    }

    /// At start: deliveries whose build the last daemon did not finish (it crashed, or was killed) are forgotten, so
    /// the provider's redelivery builds them. Returns their ids.
    public func forgetUnsettledDeliveries() throws(SlipwayError) -> [String] {
        try write { db in
            let ids = try String.fetchAll(db, sql: "SELECT provider || ' ' || delivery_id FROM webhook_deliveries WHERE settled = 0 ORDER BY id")
            try db.execute(sql: "DELETE FROM webhook_deliveries WHERE settled = 0")
            return ids
        }
    }
}
