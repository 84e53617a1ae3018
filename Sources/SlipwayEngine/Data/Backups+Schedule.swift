import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// A job the daemon runs on a cron schedule: an environment's backup, verification or drill.
public struct ScheduledJob: Sendable, Equatable {
    public enum Kind: String, Sendable { case backup, verify, drill }
    public var kind: Kind
    public var environment: String
    public var schedule: CronSchedule
    public var timeZone: TimeZone
    /// The key its last run is stored under, e.g. `backup:production`.
    public var key: String { "\(kind.rawValue):\(environment)" }
}

extension Backups {
    /// Every scheduled job the configuration defines.
    public func scheduledJobs() -> [ScheduledJob] {
        var jobs: [ScheduledJob] = []
        for name in config.environmentNames {
            guard let b = config.environments[name]?.backup else { continue }
            let candidates: [(ScheduledJob.Kind, CronSchedule?)] = [(.backup, b.schedule), (.verify, b.verify.schedule), (.drill, b.drillSchedule)]
            for (kind, schedule) in candidates {
                if let schedule { jobs.append(ScheduledJob(kind: kind, environment: name, schedule: schedule, timeZone: b.timezone)) }
            }
        }
        return jobs
    }

    /// Runs, one after the other, every job whose next time after its last run has come. A job seen for
    /// the first time only records `now` (a new schedule starts from its next slot); runs missed while
    /// the daemon was down are made up once. The run is recorded before it starts: at most once per slot.
    /// Returns the keys of the jobs it ran.
    @discardableResult
    public func runDueJobs(now: Date = Date()) async -> [String] {
        // A slipway.yml that no longer loads: the jobs run on the configuration in force, and the log says why.
        do { _ = try await context.reloadConfig() } catch { logger.warning("scheduled jobs run on the previous configuration", metadata: ["error": "\(error)"]) }
        var ran: [String] = []
        for job in scheduledJobs() {
            do throws(SlipwayError) {
                guard let last = try store.data.lastRun(job.key) else {
                    try store.data.recordRun(job.key, at: now)
                    continue
                }
                guard let next = job.schedule.next(after: last, in: job.timeZone), next <= now else { continue }
                try store.data.recordRun(job.key, at: now)
                ran.append(job.key)
                try await run(job)
            } catch {
                logger.error("scheduled job failed", metadata: ["job": "\(job.key)", "error": "\(error.message)"])
            }
        }
        return ran
    }

    /// When the next job is due (nil: none is scheduled).
    public func nextScheduledRun(after now: Date = Date()) -> Date? {
        scheduledJobs().compactMap { job -> Date? in
            let last = (try? store.data.lastRun(job.key)) ?? now
            return job.schedule.next(after: last, in: job.timeZone)
        }.min()
    }

    func run(_ job: ScheduledJob) async throws(SlipwayError) {
        let actor = Principal.daemon("scheduler")
        let name = "scheduler"
        let env = try config.environment(job.environment)
        logger.info("scheduled job starting", metadata: ["job": "\(job.key)", "job.schedule": "\(job.schedule)"])
        switch job.kind {
        case .backup:
            _ = try await context.withLease(env.name, holder: "scheduled backup", actor: actor) { () async throws -> BackupInfo in
                try await take(env, reason: "scheduled", actor: actor)
            }
            // Retention after every scheduled backup, as `restic backup && restic forget` would.
            _ = try await prune(BackupPruneRequest(environment: env.name, dryRun: false, actor: name))
        case .verify:
            // Checksums of every copy; the restore test (if configured) on the newest backup.
            _ = try await verify(BackupVerifyRequest(environment: env.name, id: nil, restoreTest: false, actor: name))
            if env.backup?.verify.restoreTest == true, let newest = try store.data.backups(environment: env.name).first {
                _ = try await verify(BackupVerifyRequest(environment: env.name, id: newest.id, restoreTest: true, actor: name))
            }
        case .drill:
            _ = try await drill(DrillRequest(environment: env.name, actor: name))
        }
    }
}
