import Foundation
import SlipwayCore
import Synchronization

/// The environment's fleet lease, kept on its first host: taken before anything is staged (waiting up to
/// `lockWait` for another controller's), renewed every third of its TTL while the deploy runs, given back at the
/// end. A controller that dies leaves it to expire after `fleet.lease_ttl`.
extension FleetDeploy {
    /// The environment's lock, as a keeper that says when it was lost: the shared state's advisory lock when there is
    /// one (lost with its connection), else the lease on `host` (renewed while the deploy runs). Nil with the outcome
    /// refused or failed.
    func claim(_ host: any FleetHost, _ outcome: inout FleetOutcome) async -> LeaseKeeper? {
        guard let shared else {
            guard let lease = await acquire(host, &outcome) else { return nil }
            return renewing(lease, on: host)
        }
        outcome.phase = .lease
        let claim: SharedState.Claim
        do {
            claim = try await shared.lock(environment: environment, holder: holder, wait: lockWait, floor: outcome.epoch) { [log, environment] holder in
                log("waiting for \(holder)'s lock on \(environment)")
            }
        } catch {
            outcome.message = "cannot take the lock on \(environment): \(error.message); nothing changed"
            log(outcome.message)
            return nil
        }
        switch claim {
        case .granted(let epoch):
            outcome.epoch = epoch
            let keeper = LeaseKeeper()
            shared.onClose { [log] in
                if keeper.lose() { log("the connection to the shared state ended: the lock went with it") }
            }
            return keeper
        case .refused(let holder, let since):
            outcome.state = .refused
            outcome.message = "\(environment) is being deployed by \(holder)" + (since.map { " (since \($0.formatted(Date.ISO8601FormatStyle())))" } ?? "")
                + "; nothing changed" + (lockWait == .zero ? " (--lock-wait DURATION waits for it)" : "")
            log(outcome.message)
            return nil
        }
    }

    /// Gives the lock back.
    func unclaim(_ host: any FleetHost) async {
        if let shared { await shared.unlock(environment: environment) } else { await release(on: host) }
    }

    /// The lease (its epoch becomes the deploy's, when higher), or nil with the outcome refused or failed.
    func acquire(_ host: any FleetHost, _ outcome: inout FleetOutcome) async -> FleetLease? {
        outcome.phase = .lease
        let until = ContinuousClock.now + lockWait
        var said = false
        while true {
            let lease: FleetLease
            do {
                lease = try await host.lease(app: app, HostLeaseRequest(environment: environment, holder: holder, ttlSeconds: ttlSeconds, release: false))
            } catch {
                outcome.message = "cannot take the lease on \(host.name): \(error.message); nothing changed"
                log(outcome.message)
                return nil
            }
            if lease.granted {
                outcome.epoch = max(outcome.epoch, lease.epoch)
                return lease
            }
            guard ContinuousClock.now < until else {
                outcome.state = .refused
                outcome.message = "\(environment) is being deployed by \(lease.holder) (lease until \(lease.expires)); nothing changed"
                    + (lockWait == .zero ? " (--lock-wait DURATION waits for it)" : "")
                log(outcome.message)
                return nil
            }
            if !said {
                log("waiting for \(lease.holder)'s lease on \(environment)")
                said = true
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    var ttlSeconds: Int { max(1, Int(settings.leaseTTL.components.seconds)) }

    /// Renews the lease every third of its TTL until cancelled; `lost` once a renewal is refused.
    func renewing(_ lease: FleetLease, on host: any FleetHost) -> LeaseKeeper {
        let keeper = LeaseKeeper()
        let request = HostLeaseRequest(environment: environment, holder: holder, ttlSeconds: ttlSeconds, release: false)
        let period = settings.leaseTTL / 3, app = app, log = log
        keeper.task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                if Task.isCancelled { return }
                do throws(SlipwayError) {
                    if try await host.lease(app: app, request).granted == false { keeper.lose(); log("the lease was taken by another controller") }
                } catch {
                    log("cannot renew the lease on \(host.name): \(error.message)")
                }
            }
        }
        return keeper
    }

    func release(on host: any FleetHost) async {
        do throws(SlipwayError) {
            _ = try await host.lease(app: app, HostLeaseRequest(environment: environment, holder: holder, ttlSeconds: ttlSeconds, release: true))
        } catch {
            log("cannot give the lease back on \(host.name) (\(error.message)); it expires within \(DurationParsing.format(settings.leaseTTL))")
        }
    }
}

/// The renewal task of a held lease and whether it was lost.
final class LeaseKeeper: Sendable {
    let state = Mutex<(task: Task<Void, Never>?, lost: Bool, done: Bool)>((nil, false, false))
    var task: Task<Void, Never>? {
        get { state.withLock { $0.task } }
        set { state.withLock { $0.task = newValue } }
    }
    var lost: Bool { state.withLock { $0.lost } }
    /// Marks the lock lost; false when the work under it had already ended (nothing to say then).
    @discardableResult
    func lose() -> Bool {
        state.withLock { s in
            s.lost = true
            return !s.done
        }
    }
    /// The work under the lock has ended: the renewal stops.
    func cancel() {
        state.withLock { s in
            s.done = true
            s.task?.cancel()
        }
    }
}
