import Foundation

/// The `type` string and the `payload` object of an event's JSON.
extension EventPayload {
    public var type: String {
        switch self {
        case .deployment(let p): "deployment.\(p.change.rawValue)"
        case .instance(let p): "instance.\(p.change.rawValue)"
        case .backup(let p): "backup.\(p.change.rawValue)"
        case .drill: "drill.finished"
        case .maintenance: "maintenance.changed"
        case .lock(let p): "lock.\(p.change.rawValue)"
        case .router: "router.restarted"
        case .config: "config.reloaded"
        case .canary(let p): "canary.\(p.change.rawValue)"
        case .alert(let p): "alert.\(p.change.rawValue)"
        case .incident(let p): "incident.\(p.change.rawValue)"
        case .fleet(let p): "fleet.\(p.change.rawValue)"
        }
    }

    public func encodeBody(to encoder: any Encoder) throws {
        switch self {
        case .deployment(let p): try p.encode(to: encoder)
        case .instance(let p): try p.encode(to: encoder)
        case .backup(let p): try p.encode(to: encoder)
        case .drill(let p): try p.encode(to: encoder)
        case .maintenance(let p): try p.encode(to: encoder)
        case .lock(let p): try p.encode(to: encoder)
        case .router(let p): try p.encode(to: encoder)
        case .config(let p): try p.encode(to: encoder)
        case .canary(let p): try p.encode(to: encoder)
        case .alert(let p): try p.encode(to: encoder)
        case .incident(let p): try p.encode(to: encoder)
        case .fleet(let p): try p.encode(to: encoder)
        }
    }

    /// Reads the payload object of an event whose type is `type`.
    public static func decode(type: String, from decoder: any Decoder) throws -> EventPayload {
        let parts = type.split(separator: ".", maxSplits: 1).map(String.init)
        let family = parts.first ?? "", change = parts.count > 1 ? parts[1] : ""
        func unknown() -> any Error {
            DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown event type '\(type)'"))
        }
        /// The payload, with the change the type names.
        func changing<P: Changing>(_: P.Type) throws -> P {
            var p = try P(from: decoder)
            guard let c = P.Change(rawValue: change) else { throw unknown() }
            p.change = c
            return p
        }
        switch family {
        case "deployment": return .deployment(try changing(Deployment.self))
        case "instance": return .instance(try changing(Instance.self))
        case "backup": return .backup(try changing(Backup.self))
        case "lock": return .lock(try changing(Lock.self))
        case "drill": return .drill(try Drill(from: decoder))
        case "maintenance": return .maintenance(try Maintenance(from: decoder))
        case "router": return .router(try Router(from: decoder))
        case "config": return .config(try Config(from: decoder))
        case "canary": return .canary(try changing(Canary.self))
        case "alert": return .alert(try changing(Alert.self))
        case "incident": return .incident(try changing(Incident.self))
        case "fleet": return .fleet(try changing(Fleet.self))
        default: throw unknown()
        }
    }

    /// A short line for people.
    public var summary: String {
        switch self {
        case .deployment(let p): p.change == .transition ? "\(p.kind.rawValue) \(p.version) → \(p.state.rawValue): \(p.detail)" : p.detail
        case .instance(let p): "\(p.release)-\(p.slot) \(p.change.rawValue) (pid \(p.pid), port \(p.port)\(p.restarts.map { ", restarts \($0)" } ?? ""))"
        case .backup(let p): [p.backupId, p.detail.isEmpty ? nil : p.detail].compactMap { $0 }.joined(separator: ": ")
        case .drill(let p): "\(p.ok ? "passed" : "failed"): RTO \(p.rtoMs) ms, RPO \(p.rpoSeconds)s from \(p.backupId)" + (p.message.map { ": \($0)" } ?? "")
        case .maintenance(let p): "\(p.mode?.rawValue ?? "off"): \(p.detail)"
        case .lock(let p): "\(p.holder): \(p.detail)"
        case .router(let p): "pid \(p.pid): \(p.detail)"
        case .config(let p): "\(p.file): \(p.detail)"
        case .canary(let p): "\(p.release) step \(p.step) at \(p.weight)%: \(p.detail)"
        case .alert(let p): "\(p.severity.rawValue) \(p.name) \(p.change.rawValue): \(p.summary)"
        case .incident(let p): "incident \(p.incidentId) \(p.change.rawValue) (\(p.severity.rawValue), \(p.status.rawValue)): \(p.detail)"
        case .fleet(let p): "\(p.deployment) \(p.version)" + (p.state.map { " \($0)" } ?? "") + ": \(p.detail)"
        }
    }
}
