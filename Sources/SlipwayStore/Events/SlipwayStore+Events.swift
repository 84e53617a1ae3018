import Foundation
import GRDB
import SlipwayCore

/// The event log: appended inside the transaction of the change it describes, published after commit.
extension SlipwayStore {
    /// Writes `body`'s changes and the events it appends in one transaction, then hands the events to
    /// in-process subscribers.
    func write<T>(recording body: (Database, inout [Event]) throws -> T) throws(SlipwayError) -> T {
        var appended: [Event] = []
        let result = try write { db in
            appended.removeAll()
            return try body(db, &appended)
        }
        bus.publish(appended)
        return result
    }

    /// Appends one event inside a transaction; returns it with its id.
    static func append(_ db: Database, _ event: Event, to appended: inout [Event]) throws {
        var e = event
        let payload = try SlipwayJSON.encoder().encode(PayloadBody(payload: e.payload))
        try db.execute(sql: "INSERT INTO events (time, environment, deployment_id, type, payload) VALUES (?, ?, ?, ?, ?)",
                       arguments: [e.time, e.environment, e.deploymentId, e.type, String(decoding: payload, as: UTF8.self)])
        e.id = db.lastInsertedRowID
        appended.append(e)
    }

    /// Records an event on its own (instance changes, maintenance, router restarts, …).
    /// A failed write is counted (`slipway_store_write_failures_total`) and thrown.
    public func record(_ event: Event) throws(SlipwayError) {
        do { try write(recording: { db, appended in try Self.append(db, event, to: &appended) }) } catch {
            countWriteFailure()
            throw error
        }
    }

    /// Events after `id`, oldest first; with `environment`, only that environment's.
    public func events(after id: Int64, environment: String? = nil, limit: Int = 500) throws(SlipwayError) -> [Event] {
        try read { db in
            var sql = "SELECT id, time, environment, deployment_id, type, payload FROM events WHERE id > ?"
            var args: [(any DatabaseValueConvertible)?] = [id]
            if let environment {
                sql += " AND environment = ?"
                args.append(environment)
            }
            sql += " ORDER BY id LIMIT ?"
            args.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Self.event)
        }
    }

    /// A deployment's events whose type starts with `typePrefix` (`canary.`), oldest first.
    public func events(ofDeployment id: Int64, typePrefix: String, limit: Int = 1000) throws(SlipwayError) -> [Event] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, time, environment, deployment_id, type, payload FROM events
                WHERE deployment_id = ? AND substr(type, 1, ?) = ? ORDER BY id LIMIT ?
                """, arguments: [id, typePrefix.count, typePrefix, limit]).map(Self.event)
        }
    }

    /// The last `count` events (oldest first), for a first look without `--since`.
    public func lastEvents(_ count: Int, environment: String? = nil) throws(SlipwayError) -> [Event] {
        let before = try read { db in
            var sql = "SELECT id FROM events"
            var args: [(any DatabaseValueConvertible)?] = []
            if let environment {
                sql += " WHERE environment = ?"
                args.append(environment)
            }
            sql += " ORDER BY id DESC LIMIT 1 OFFSET ?"
            args.append(max(0, count - 1))
            return try Int64.fetchOne(db, sql: sql, arguments: StatementArguments(args))
        }
        return try events(after: (before ?? 1) - 1, environment: environment, limit: count)
    }

    /// The id just before the first event at or after `time` (to resume from a time).
    public func eventId(before time: Date) throws(SlipwayError) -> Int64 {
        try read { db in
            if let first = try Int64.fetchOne(db, sql: "SELECT id FROM events WHERE time >= ? ORDER BY id LIMIT 1", arguments: [time]) { return first - 1 }
            return try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM events") ?? 0
        }
    }

    /// Retention: deletes events older than `before`, always keeping the newest `keepLast` (ids are never
    /// reused, so a reader resuming after a pruned id simply continues with what is left). Returns how many went.
    @discardableResult
    public func pruneEvents(before: Date, keepLast: Int = 10_000) throws(SlipwayError) -> Int {
        try write { db in
            let floor = try Int64.fetchOne(db, sql: "SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?", arguments: [max(0, keepLast - 1)]) ?? 0
            try db.execute(sql: "DELETE FROM events WHERE time < ? AND id < ?", arguments: [before, floor])
            return db.changesCount
        }
    }

    public func lastEventId() throws(SlipwayError) -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM events") ?? 0 }
    }

    /// Every event after `id`, then each new one as it is written (in-process; no polling).
    public func follow(after id: Int64, environment: String? = nil) -> EventFeed {
        EventFeed(store: self, after: id, environment: environment)
    }

    static func event(_ row: Row) throws -> Event {
        let type: String = row["type"]
        let text: String = row["payload"]
        let decoder = SlipwayJSON.decoder()
        decoder.userInfo[PayloadBody.typeKey] = type
        let body = try decoder.decode(PayloadBody.self, from: Data(text.utf8))
        return Event(id: row["id"], time: row["time"], environment: row["environment"], deploymentId: row["deployment_id"], payload: body.payload)
    }
}

/// The `payload` column: the payload's own fields, read back according to the row's `type`.
struct PayloadBody: Codable {
    static let typeKey = CodingUserInfoKey(rawValue: "slipway.event.type")!
    var payload: EventPayload

    init(payload: EventPayload) { self.payload = payload }

    init(from decoder: any Decoder) throws {
        guard let type = decoder.userInfo[Self.typeKey] as? String else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "event type missing"))
        }
        payload = try EventPayload.decode(type: type, from: decoder)
    }

    func encode(to encoder: any Encoder) throws { try payload.encodeBody(to: encoder) }
}
