import Foundation
import GRDB
import SlipwayCore

/// The index of backups: one row per backup with its manifest and the stores holding a copy.
/// The stores are the truth for the data; this table is what `list`, retention and rollbacks read.
extension DataRecords {
    public func saveBackup(_ info: BackupInfo) throws(SlipwayError) {
        let manifest = try json(info.manifest, what: "a backup's manifest")
        let locations = try json(info.locations, JSONEncoder(), what: "a backup's locations")
        try write { db in
            try db.execute(sql: """
                INSERT INTO backups (id, environment, created_at, reason, deployment_id, before_deploy_of, manifest, locations, verified_at, verify_ok)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET locations = excluded.locations, verified_at = excluded.verified_at, verify_ok = excluded.verify_ok
                """, arguments: [info.id, info.environment, info.createdAt, info.reason, info.deploymentId, info.beforeDeployOf,
                                 manifest, locations, info.verifiedAt, info.verifyOk])
        }
    }

    public func backups(environment: String?) throws(SlipwayError) -> [BackupInfo] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM backups WHERE ?1 IS NULL OR environment = ?1 ORDER BY created_at DESC, id DESC",
                                        arguments: [environment])
            return try rows.map(Self.backupInfo)
        }
    }

    /// How many backups an environment keeps and when the newest was taken, without reading their manifests
    /// (`/metrics` asks on every scrape).
    public func backupSummary(environment: String) throws(SlipwayError) -> (count: Int, newest: Date?) {
        try read { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, MAX(created_at) AS newest FROM backups WHERE environment = ?", arguments: [environment])
            return (row?["n"] ?? 0, row?["newest"])
        }
    }

    public func backup(_ id: String) throws(SlipwayError) -> BackupInfo? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM backups WHERE id = ?", arguments: [id]).map(Self.backupInfo) }
    }

    public func deleteBackup(_ id: String) throws(SlipwayError) {
        try write { db in try db.execute(sql: "DELETE FROM backups WHERE id = ?", arguments: [id]) }
    }

    public func recordVerification(_ id: String, ok: Bool, at: Date = Date()) throws(SlipwayError) {
        try write { db in try db.execute(sql: "UPDATE backups SET verified_at = ?, verify_ok = ? WHERE id = ?", arguments: [at, ok, id]) }
    }

    static func backupInfo(_ row: Row) throws -> BackupInfo {
        let manifest = try SlipwayJSON.decoder().decode(BackupManifest.self, from: Data((row["manifest"] as String).utf8))
        let locations = (try? JSONDecoder().decode([String].self, from: Data((row["locations"] as String).utf8))) ?? []
        return BackupInfo(manifest: manifest, locations: locations, verifiedAt: row["verified_at"], verifyOk: row["verify_ok"])
    }

    // MARK: Drills

    /// Records a drill; returns its id.
    public func saveDrill(_ report: DrillReport) throws(SlipwayError) -> Int64 {
        let json = try json(report, what: "a drill's report")
        return try write { db in
            try db.execute(sql: "INSERT INTO drills (environment, backup_id, started_at, ok, report) VALUES (?, ?, ?, ?, ?)",
                           arguments: [report.environment, report.backupId, report.startedAt, report.ok, json])
            return db.lastInsertedRowID
        }
    }

    /// Drills, newest first.
    public func drills(environment: String?, limit: Int = 50) throws(SlipwayError) -> [DrillReport] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, report FROM drills WHERE ?1 IS NULL OR environment = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2",
                                        arguments: [environment, limit])
            return try rows.map { row in
                var r = try SlipwayJSON.decoder().decode(DrillReport.self, from: Data((row["report"] as String).utf8))
                r.id = row["id"]
                return r
            }
        }
    }
}
