import Foundation
import GRDB
import SlipwayCore

extension SignalRecords {
    /// Creates or updates an incident and records `event` (about it) in the same transaction; returns it with its id.
    @discardableResult
    public func saveIncident(_ incident: IncidentInfo, event: (IncidentInfo) -> Event?) throws(SlipwayError) -> IncidentInfo {
        try write(recording: { db, appended in
            var i = incident
            if i.id == 0 {
                try db.execute(sql: "INSERT INTO incidents (environment, status, info) VALUES (?, ?, '{}')", arguments: [i.environment, i.status.rawValue])
                i.id = db.lastInsertedRowID
            }
            let json = String(decoding: try SlipwayJSON.encoder().encode(i), as: UTF8.self)
            try db.execute(sql: "UPDATE incidents SET status = ?, info = ? WHERE id = ?", arguments: [i.status.rawValue, json, i.id])
            if let e = event(i) { try SlipwayStore.append(db, e, to: &appended) }
            return i
        })
    }

    public func incident(_ id: Int64) throws(SlipwayError) -> IncidentInfo? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT info FROM incidents WHERE id = ?", arguments: [id])
                .flatMap { try? SlipwayJSON.decoder().decode(IncidentInfo.self, from: Data($0.utf8)) }
        }
    }

    /// Newest first.
    public func incidents(environment: String? = nil, openOnly: Bool = false, limit: Int = 100) throws(SlipwayError) -> [IncidentInfo] {
        try read { db in
            var sql = "SELECT info FROM incidents WHERE 1 = 1"
            var args: [(any DatabaseValueConvertible)?] = []
            if let environment { sql += " AND environment = ?"; args.append(environment) }
            if openOnly { sql += " AND status IN ('investigating', 'mitigated')" }
            sql += " ORDER BY id DESC LIMIT ?"
            args.append(limit)
            return try String.fetchAll(db, sql: sql, arguments: StatementArguments(args)).compactMap {
                try? SlipwayJSON.decoder().decode(IncidentInfo.self, from: Data($0.utf8))
            }
        }
    }
}
