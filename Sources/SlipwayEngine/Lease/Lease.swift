import Foundation
import GRDB
import Logging
import SlipwayCore
import SlipwayStore

/// How long a lock lives without a heartbeat, and how often a holder renews it.
public struct LeaseSettings: Sendable {
    /// A lock whose last heartbeat is older than this is stale: the next operation takes it over (audited).
    public var ttl: TimeInterval
    public var heartbeat: Duration
    public init(ttl: TimeInterval = 30, heartbeat: Duration = .seconds(5)) {
        self.ttl = ttl
        self.heartbeat = heartbeat
    }
}

/// An environment's lock, held by one operation (deploy, rollback, scale, down, backup, restore, drill,
/// maintenance, migrate). It is taken in the same transaction as the operation's first record,
/// heartbeated while the operation runs, and released when it ends — on every path, and only if this
/// operation still holds it. Nothing else touches the lock table.
public struct Lease: Sendable {
    public let environment: String
    public let holder: String
    let store: SlipwayStore
    let settings: LeaseSettings
    let logger: Logger

    /// Takes the lock, writing `first` in the same transaction. Refused (policy, exit 3) while another
    /// live operation holds it; nothing is written then.
    static func acquire<T>(_ store: SlipwayStore, environment: String, holder: String, actor: Principal, settings: LeaseSettings,
                           logger: Logger, first: (Database, inout [Event]) throws -> T) throws(SlipwayError) -> (Lease, T) {
        let value = try store.acquireLock(environment: environment, holder: holder, actor: actor, staleAfter: settings.ttl, first: first)
        return (Lease(environment: environment, holder: holder, store: store, settings: settings, logger: logger), value)
    }

    /// Takes the lock for a deployment already recorded (an approved deploy that starts now).
    static func acquire(_ store: SlipwayStore, environment: String, holder: String, actor: Principal, settings: LeaseSettings,
                        logger: Logger, deployment: Int64) throws(SlipwayError) -> Lease {
        try acquire(store, environment: environment, holder: holder, actor: actor, settings: settings, logger: logger) { db, _ in
            try SlipwayStore.bindLock(db, environment: environment, to: deployment)
        }.0
    }

    /// Runs `body` while the lock is heartbeated, then releases it, whatever `body` did. The heartbeat
    /// task is cancelled and awaited before the lock is released.
    func hold<T>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T) async rethrows -> T {
        let beat = Task { await self.beat() }
        defer { release() }
        do {
            let value = try await body()
            beat.cancel()
            await beat.value
            return value
        } catch {
            beat.cancel()
            await beat.value
            throw error
        }
    }

    /// Releases the lock if this operation still holds it (another may have taken a stale one over).
    func release() {
        do {
            if try store.releaseLock(environment: environment, holder: holder) == nil {
                logger.warning("the lock was no longer ours to release", metadata: ["lock.env": "\(environment)", "lock.holder": "\(holder)"])
            }
        } catch {
            logger.error("cannot release the lock", metadata: ["lock.env": "\(environment)", "error": "\(error)"])
        }
    }

    /// Renews the heartbeat until cancelled. A lost lock is logged once and recorded in the event log.
    private func beat() async {
        var lost = false
        while !Task.isCancelled {
            do { try await Task.sleep(for: settings.heartbeat) } catch { return }
            let held = (try? store.heartbeat(environment: environment, holder: holder)) ?? true
            if !held && !lost {
                lost = true
                logger.error("lost the environment's lock to another operation", metadata: ["lock.env": "\(environment)", "lock.holder": "\(holder)"])
                store.record(Event(environment: environment, payload: .lock(.init(change: .lost, holder: holder,
                                                                              detail: "another operation took the lock over"))), orLog: logger)
            }
        }
    }
}

extension Lease {
    /// Removes whatever lock `environment` has: an operator's `slipway lock release`, or a daemon start
    /// clearing the locks of the run before it. Audited, and a `lock.released` event.
    static func forceRelease(_ store: SlipwayStore, environment: String, actor: Principal, action: String, why: String) throws(SlipwayError) -> LockInfo? {
        let released = try store.releaseLock(environment: environment, holder: nil)
        let detail = released.map { "released the lock of \($0.holder) (\(why))" } ?? ""
        try store.audit(actor, action: action, target: environment, outcome: released == nil ? "not locked" : "ok", detail: detail,
                    before: released.map { "locked by \($0.holder)" } ?? "unlocked", after: "unlocked")
        if let released {
            try store.record(Event(environment: environment, deploymentId: released.deploymentId,
                               payload: .lock(.init(change: .released, holder: released.holder, detail: detail))))
        }
        return released
    }
}
