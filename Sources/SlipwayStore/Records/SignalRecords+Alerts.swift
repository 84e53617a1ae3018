import Foundation
import GRDB
import SlipwayCore

extension SignalRecords {
    /// Every alert's last state, with its tracker, keyed by `environment/name`.
    /// With `environment`, only that environment's.
    public func alertStates(environment: String? = nil) throws(SlipwayError) -> [String: (info: AlertInfo, tracker: AlertTracker)] {
        try read { db in
            var out: [String: (AlertInfo, AlertTracker)] = [:]
            let rows = environment == nil ? try Row.fetchAll(db, sql: "SELECT environment, name, info, tracker FROM alerts")
                : try Row.fetchAll(db, sql: "SELECT environment, name, info, tracker FROM alerts WHERE environment = ?", arguments: [environment])
            for row in rows {
                let decoder = SlipwayJSON.decoder()
                guard let info = try? decoder.decode(AlertInfo.self, from: Data((row["info"] as String).utf8)),
                      let tracker = try? decoder.decode(AlertTracker.self, from: Data((row["tracker"] as String).utf8)) else { continue }
                out["\(row["environment"] as String)/\(row["name"] as String)"] = (info, tracker)
            }
            return out
        }
    }

    /// Saves an alert's state; with `event`, records it in the same transaction (a transition is never lost).
    public func saveAlert(_ info: AlertInfo, tracker: AlertTracker, event: Event? = nil) throws(SlipwayError) {
        let encoder = SlipwayJSON.encoder()
        let infoText = try json(info, encoder, what: "an alert")
        let trackerText = try json(tracker, encoder, what: "an alert's tracker")
        try write(recording: { db, appended in
            try db.execute(sql: """
                INSERT INTO alerts (environment, name, info, tracker) VALUES (?, ?, ?, ?)
                ON CONFLICT(environment, name) DO UPDATE SET info = excluded.info, tracker = excluded.tracker
                """, arguments: [info.environment, info.name, infoText, trackerText])
            if let event { try SlipwayStore.append(db, event, to: &appended) }
        })
    }

    public func addSilence(environment: String, alert: String, until: Date, reason: String, actor: String, now: Date = Date()) throws(SlipwayError) {
        try write { db in
            try db.execute(sql: "INSERT INTO silences (environment, alert, until, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [environment, alert, until, reason, actor, now])
        }
    }

    /// Silences still running at `now`, the latest-ending one per `environment/alert`.
    public func activeSilences(now: Date = Date()) throws(SlipwayError) -> [String: (until: Date, reason: String)] {
        try read { db in
            var out: [String: (Date, String)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT environment, alert, until, reason FROM silences WHERE until > ? ORDER BY until", arguments: [now]) {
                out["\(row["environment"] as String)/\(row["alert"] as String)"] = (row["until"] as Date, row["reason"] as String)
            }
            return out
        }
    }
}

extension SignalRecords {
    /// The newest event of each of `types` in `environment`.
    public func latestEvents(environment: String, types: [String]) throws(SlipwayError) -> [String: Event] {
        try read { db in
            let marks = types.map { _ in "?" }.joined(separator: ", ")
            var args: [(any DatabaseValueConvertible)?] = [environment]
            args += types.map { $0 as (any DatabaseValueConvertible)? }
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, time, environment, deployment_id, type, payload FROM events WHERE id IN (
                  SELECT MAX(id) FROM events WHERE environment = ? AND type IN (\(marks)) GROUP BY type)
                """, arguments: StatementArguments(args))
            var out: [String: Event] = [:]
            for e in try rows.map(SlipwayStore.event) { out[e.type] = e }
            return out
        }
    }
}
