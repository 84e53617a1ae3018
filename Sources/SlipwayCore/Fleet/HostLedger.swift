import Foundation

/// What a fleet host remembers for the controllers, in `<root>/host.json` (written whole, renamed into place,
/// before the host acts on it): the highest epoch each app's environment has seen (a controller's fencing token:
/// a lower one is refused, so a controller cut off by a partition cannot act after another took over), and what
/// each fleet deployment replaced (a revert puts that back, whichever controller asks).
public struct HostLedger: Codable, Sendable, Equatable {
    /// "app/environment" → the highest epoch seen.
    public var epochs: [String: Int64] = [:]
    /// "app/environment/deployment" → the release it replaced ("" when nothing served).
    public var replaced: [String: String] = [:]
    /// "app/environment" → the controller deploying it now (kept on the environment's first host only).
    public var leases: [String: FleetLease] = [:]

    public init() {}

    static func key(_ app: String, _ environment: String) -> String { app + "/" + environment }

    public func epoch(app: String, environment: String) -> Int64 { epochs[Self.key(app, environment)] ?? 0 }

    /// Takes `epoch` for the app's environment, or refuses it when a higher one was seen (nothing changes then).
    public mutating func fence(app: String, environment: String, epoch: Int64) throws(SlipwayError) {
        let seen = self.epoch(app: app, environment: environment)
        guard epoch >= seen else {
            throw .policy("epoch \(epoch) is stale: this host has seen epoch \(seen) for \(app)/\(environment) (another controller deployed since); "
                          + "run the command again to act with the current epoch")
        }
        epochs[Self.key(app, environment)] = epoch
    }

    /// What `deployment` replaced: nil when it never ran here, "" when nothing served before it.
    public func replaced(app: String, environment: String, deployment: String) -> String? {
        replaced[Self.key(app, environment) + "/" + deployment]
    }

    /// Remembers what `deployment` replaces, once (a repeated activation keeps the first answer).
    public mutating func remember(app: String, environment: String, deployment: String, previous: String?) {
        let key = Self.key(app, environment) + "/" + deployment
        if replaced[key] == nil { replaced[key] = previous ?? "" }
    }

    /// Takes (or renews) the app's environment for `holder` until `now + ttl`: granted when it is free, expired or
    /// `holder`'s already. A new holder gets the next epoch (its fencing token); a renewal keeps its own.
    public mutating func lease(app: String, environment: String, holder: String, ttl: Duration, now: Date) -> FleetLease {
        let key = Self.key(app, environment)
        let until = now.addingTimeInterval(Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18)
        if var held = leases[key], held.expires > now, held.holder != holder { held.granted = false; return held }
        if var mine = leases[key], mine.holder == holder, mine.expires > now {
            mine.expires = until
            leases[key] = mine
            return mine
        }
        let epoch = epoch(app: app, environment: environment) + 1
        epochs[key] = epoch
        let lease = FleetLease(holder: holder, epoch: epoch, expires: until, granted: true)
        leases[key] = lease
        return lease
    }

    /// Gives the lease back when `holder` has it (false: it was not theirs, or had expired and been taken).
    public mutating func unlease(app: String, environment: String, holder: String) -> Bool {
        let key = Self.key(app, environment)
        guard leases[key]?.holder == holder else { return false }
        leases[key] = nil
        return true
    }

    public static func read(_ path: String) throws(SlipwayError) -> HostLedger {
        guard let data = FileManager.default.contents(atPath: path) else { return HostLedger() }
        do { return try SlipwayJSON.decoder().decode(HostLedger.self, from: data) } catch {
            throw SlipwayError(.internal, "\(path) is not a host ledger; move it away to start over", cause: error)
        }
    }

    /// Written whole to a temporary file and renamed into place (`.atomic`).
    public func write(_ path: String) throws(SlipwayError) {
        do {
            try SlipwayJSON.encoder(pretty: true).encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw SlipwayError(.internal, "cannot write \(path)", cause: error)
        }
    }
}

/// Who deploys an app's environment across its fleet, until when, and with which epoch (`HostLedger.lease`).
public struct FleetLease: Codable, Sendable, Equatable {
    public var holder: String
    public var epoch: Int64
    public var expires: Date
    /// False: someone else holds it (this is theirs).
    public var granted: Bool
    public init(holder: String, epoch: Int64, expires: Date, granted: Bool) {
        self.holder = holder
        self.epoch = epoch
        self.expires = expires
        self.granted = granted
    }
}
