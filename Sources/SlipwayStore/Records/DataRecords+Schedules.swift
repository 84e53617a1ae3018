import Foundation
import GRDB
import SlipwayCore

/// When each scheduled job last started, so a restart neither repeats nor forgets a run.
extension DataRecords {
    public func lastRun(_ job: String) throws(SlipwayError) -> Date? {
        try read { db in try Date.fetchOne(db, sql: "SELECT last_run_at FROM schedule_runs WHERE job = ?", arguments: [job]) }
    }

    public func recordRun(_ job: String, at date: Date) throws(SlipwayError) {
        try write { db in
            try db.execute(sql: "INSERT INTO schedule_runs (job, last_run_at) VALUES (?, ?) ON CONFLICT(job) DO UPDATE SET last_run_at = excluded.last_run_at",
                           arguments: [job, date])
        }
    }
}
