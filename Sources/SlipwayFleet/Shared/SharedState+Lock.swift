import Foundation
import PostgresNIO
import SlipwayCore

/// The lock on an app's environment (a session advisory lock on this controller's connection) and the epoch that
/// fences every host call made under it.
extension SharedState {
    public enum Claim: Sendable, Equatable {
        /// The lock is this controller's; act with this epoch.
        case granted(epoch: Int64)
        /// Another controller holds it (who, since when).
        case refused(holder: String, since: Date?)
    }

    /// Takes the lock on `environment` (waiting up to `wait`: PostgreSQL itself wakes the waiter the moment the holder
    /// unlocks or its connection dies), then the next epoch: above every epoch given out before and at least `floor`
    /// (one above what the hosts have seen).
    public func lock(environment: String, holder: String, wait: Duration, floor: Int64,
                     waiting: @Sendable (String) -> Void = { _ in }) async throws(SlipwayError) -> Claim {
        let key = lockKey(environment)
        let rows = try await run("take the lock on \(environment)", "SELECT pg_try_advisory_lock(hashtextextended(\(key), 0))")
        var got = false
        do { for try await b in rows.decode(Bool.self) { got = b } } catch { throw failed("take the lock on \(environment)", error) }
        if !got {
            let current = try await currentHolder(of: environment)
            guard wait > .zero else { return .refused(holder: current.holder, since: current.since) }
            waiting(current.holder)
            let ms = max(1, wait.milliseconds)
            do {
                try await connection.exec(PostgresQuery(unsafeSQL: "SET lock_timeout = \(ms)"), logger: logger)
                try await connection.exec("SELECT pg_advisory_lock(hashtextextended(\(key), 0))", logger: logger)
                try await connection.exec("RESET lock_timeout", logger: logger)
            } catch {
                _ = try? await connection.exec("RESET lock_timeout", logger: logger)
                guard Self.sqlState(error) == "55P03" else { throw failed("wait for the lock on \(environment)", error) }
                let current = try await currentHolder(of: environment)
                return .refused(holder: current.holder, since: current.since)
            }
        }
        let app = self.app, now = Self.nowMs()
        let epoch: Int64 = try await transaction("take the next epoch of \(environment)") { c, logger in
            let rows = try await c.query("""
                INSERT INTO slipway_fleet_epochs (app, environment, epoch, holder, since_ms) VALUES (\(app), \(environment), \(floor), \(holder), \(now))
                ON CONFLICT (app, environment) DO UPDATE SET epoch = GREATEST(slipway_fleet_epochs.epoch + 1, EXCLUDED.epoch),
                  holder = EXCLUDED.holder, since_ms = EXCLUDED.since_ms
                RETURNING epoch
                """, logger: logger)
            var epoch: Int64 = floor
            for try await e in rows.decode(Int64.self) { epoch = e }
            return epoch
        }
        return .granted(epoch: epoch)
    }

    /// Gives the lock back (a closed connection gives it back too).
    public func unlock(environment: String) async {
        _ = try? await connection.exec("SELECT pg_advisory_unlock(hashtextextended(\(lockKey(environment)), 0))", logger: logger)
    }

    /// Who took the lock last, and when (the holder while it is held).
    func currentHolder(of environment: String) async throws(SlipwayError) -> (holder: String, since: Date?) {
        let rows = try await run("read the lock's holder", "SELECT holder, since_ms FROM slipway_fleet_epochs WHERE app = \(app) AND environment = \(environment)")
        do {
            for try await (holder, since) in rows.decode((String, Int64).self) { return (holder, Self.date(since)) }
        } catch { throw failed("read the lock's holder", error) }
        return ("another controller", nil)
    }

    func lockKey(_ environment: String) -> String { "slipway:\(app)/\(environment)" }
}
