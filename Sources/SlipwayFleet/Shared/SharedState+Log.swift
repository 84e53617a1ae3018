import Crypto
import Foundation
import PostgresNIO
import SlipwayCore

/// The shared event log (`NOTIFY slipway_events` wakes followers; the table is the source of truth) and the shared
/// audit chain (each entry's hash covers the one before, so an edit breaks it).
extension SharedState {
    static let channel = "slipway_events"

    /// Appends `event` (its id is the table's) and wakes followers when it commits.
    @discardableResult
    public func append(_ event: Event) async throws(SlipwayError) -> Int64 {
        let body = String(decoding: try SlipwayJSON.encode(event, what: "the \(event.type) event"), as: UTF8.self)
        let app = self.app, at = Self.nowMs(event.time), type = event.type
        return try await transaction("append a \(type) event") { c, logger in
            let rows = try await c.query("""
                INSERT INTO slipway_events (at_ms, app, environment, type, payload) VALUES (\(at), \(app), \(event.environment), \(type), \(body)) RETURNING id
                """, logger: logger)
            var id: Int64 = 0
            for try await i in rows.decode(Int64.self) { id = i }
            try await c.exec("SELECT pg_notify(\(Self.channel), \(String(id)))", logger: logger)
            return id
        }
    }

    /// The events after `after` (oldest first), or with `after` nil the last `limit`; `next` is the id to ask after next.
    public func events(environment: String?, after: Int64?, limit: Int) async throws(SlipwayError) -> EventPage {
        let rows: PostgresRowSequence
        if let after {
            rows = try await run("read events", """
                SELECT id, at_ms, payload FROM slipway_events WHERE app = \(app) AND (\(environment)::text IS NULL OR environment = \(environment))
                AND id > \(after) ORDER BY id LIMIT \(limit)
                """)
        } else {
            rows = try await run("read events", """
                SELECT * FROM (SELECT id, at_ms, payload FROM slipway_events WHERE app = \(app) AND (\(environment)::text IS NULL OR environment = \(environment))
                ORDER BY id DESC LIMIT \(limit)) t ORDER BY id
                """)
        }
        var events: [Event] = []
        var next = after ?? 0
        do {
            for try await (id, at, payload) in rows.decode((Int64, Int64, String).self) {
                next = max(next, id)
                guard var e = try? SlipwayJSON.decoder().decode(Event.self, from: Data(payload.utf8)) else { continue }
                e.id = id
                e.time = Self.date(at)
                events.append(e)
            }
        } catch { throw failed("read events", error) }
        return EventPage(events: events, next: next)
    }

    /// Calls `sink` for every event after `after`, page by page; the id to ask after next.
    public func drain(environment: String?, after: Int64, _ sink: (Event) -> Void) async throws(SlipwayError) -> Int64 {
        var cursor = after
        while true {
            let page = try await events(environment: environment, after: cursor, limit: 1000)
            page.events.forEach(sink)
            cursor = page.next
            if page.events.count < 1000 { return cursor }
        }
    }

    /// Calls `emit` for every event after `after`, then for each new one as it commits, until the task is cancelled
    /// or the connection ends.
    public func follow(environment: String?, after: Int64, _ emit: @Sendable (Event) -> Void) async throws(SlipwayError) {
        var last = after
        do {
            try await connection.listen(on: Self.channel) { notifications in
                // What came before LISTEN took effect, then everything new at each wake-up.
                last = try await self.drain(environment: environment, after: last, emit)
                for try await _ in notifications { last = try await self.drain(environment: environment, after: last, emit) }
            }
        } catch let e as SlipwayError { throw e } catch { throw failed("follow events", error) }
    }

    /// Appends an audit entry to the shared chain (one chain for every app in the database, serialized by a table lock).
    public func audit(environment: String?, actor: String, action: String, target: String, outcome: String, detail: String) async throws(SlipwayError) {
        let app = self.app, at = Self.nowMs()
        try await transaction("write the audit entry for \(action) on \(target)") { c, logger in
            try await c.exec("LOCK TABLE slipway_audit IN EXCLUSIVE MODE", logger: logger)
            var prev = ""
            for try await h in try await c.query("SELECT hash FROM slipway_audit ORDER BY id DESC LIMIT 1", logger: logger).decode(String.self) { prev = h }
            let hash = Self.chainHash([prev, String(at), app, environment ?? "", actor, action, target, outcome, detail])
            try await c.exec("""
                INSERT INTO slipway_audit (at_ms, app, environment, actor, action, target, outcome, detail, prev_hash, hash)
                VALUES (\(at), \(app), \(environment), \(actor), \(action), \(target), \(outcome), \(detail), \(prev), \(hash))
                """, logger: logger)
        }
    }

    /// This app's audit entries, newest first.
    public func auditEntries(environment: String?, since: Date?, limit: Int) async throws(SlipwayError) -> [AuditEntry] {
        let from = since.map { Self.nowMs($0) } ?? 0
        let rows = try await run("read the audit log", """
            SELECT id, at_ms, actor, action, target, outcome, detail, hash FROM slipway_audit
            WHERE app = \(app) AND (\(environment)::text IS NULL OR environment = \(environment)) AND at_ms >= \(from) ORDER BY id DESC LIMIT \(limit)
            """)
        var out: [AuditEntry] = []
        do {
            for try await (id, at, actor, action, target, outcome, detail, hash) in rows.decode((Int64, Int64, String, String, String, String, String, String).self) {
                out.append(AuditEntry(id: id, time: Self.date(at), actor: actor, action: action, target: target, outcome: outcome, detail: detail, hash: hash))
            }
        } catch { throw failed("read the audit log", error) }
        return out
    }

    /// Walks the whole shared chain from its first entry.
    public func verifyAudit() async throws(SlipwayError) -> AuditVerification {
        let rows = try await run("read the audit log", """
            SELECT id, at_ms, app, coalesce(environment, ''), actor, action, target, outcome, detail, prev_hash, hash FROM slipway_audit ORDER BY id
            """)
        var prev = "", count = 0
        do {
            for try await row in rows {
                let c = row.makeRandomAccess()
                let id = try c[0].decode(Int64.self), at = try c[1].decode(Int64.self)
                let fields = try (2...8).map { try c[$0].decode(String.self) }
                let (storedPrev, hash) = (try c[9].decode(String.self), try c[10].decode(String.self))
                count += 1
                guard storedPrev == prev, hash == Self.chainHash([prev, String(at)] + fields) else { return AuditVerification(ok: false, entries: count, firstBad: id) }
                prev = hash
            }
        } catch { throw failed("read the audit log", error) }
        return AuditVerification(ok: true, entries: count, firstBad: nil)
    }

    static func chainHash(_ fields: [String]) -> String {
        Hex.string(SHA256.hash(data: Data(fields.joined(separator: "\u{1F}").utf8)))
    }
}
