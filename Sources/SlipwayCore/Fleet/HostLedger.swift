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

    public static func read(_ path: String) throws(SlipwayError) -> HostLedger {
        guard let data = FileManager.default.contents(atPath: path) else { return HostLedger() }
        do { return try SlipwayJSON.decoder().decode(HostLedger.self, from: data) } catch {
            throw SlipwayError(.internal, "\(path) is not a host ledger; move it away to start over", cause: error)
        }
    }

    public func write(_ path: String) throws(SlipwayError) {
        let tmp = path + ".tmp"
        do {
            try SlipwayJSON.encoder(pretty: true).encode(self).write(to: URL(fileURLWithPath: tmp), options: .atomic)
            _ = rename(tmp, path)
        } catch {
            throw SlipwayError(.internal, "cannot write \(path)", cause: error)
        }
    }
}
