import Foundation
import GRDB
import SlipwayCore

extension SlipwayStore {
    /// An environment's events between two times, oldest first (an incident's timeline).
    public func events(environment: String, from: Date, to: Date, limit: Int = 2000) throws(SlipwayError) -> [Event] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, time, environment, deployment_id, type, payload FROM events
                WHERE environment = ? AND time >= ? AND time <= ? ORDER BY id LIMIT ?
                """, arguments: [environment, from, to, limit]).map(Self.event)
        }
    }
}
