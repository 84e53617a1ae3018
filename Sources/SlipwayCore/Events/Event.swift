import Foundation

/// One entry of the event log: what happened, when, where. Ids are strictly increasing; a subscriber
/// remembers the last id it handled and resumes after it. The JSON shape is a contract (`slipway events --json`).
public struct Event: Codable, Sendable, Equatable {
    public var id: Int64
    public var time: Date
    public var environment: String?
    public var deploymentId: Int64?
    public var payload: EventPayload

    public init(id: Int64 = 0, time: Date = Date(), environment: String?, deploymentId: Int64? = nil, payload: EventPayload) {
        self.id = id
        self.time = time
        self.environment = environment
        self.deploymentId = deploymentId
        self.payload = payload
    }

    /// `deployment.transition`, `instance.crashed`, `backup.created`, …
    public var type: String { payload.type }

    enum CodingKeys: String, CodingKey {
        case id, time, environment, type, payload
        case deploymentId = "deployment_id"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int64.self, forKey: .id)
        time = try c.decode(Date.self, forKey: .time)
        environment = try c.decodeIfPresent(String.self, forKey: .environment)
        deploymentId = try c.decodeIfPresent(Int64.self, forKey: .deploymentId)
        payload = try EventPayload.decode(type: try c.decode(String.self, forKey: .type), from: c.superDecoder(forKey: .payload))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(time, forKey: .time)
        try c.encodeIfPresent(environment, forKey: .environment)
        try c.encodeIfPresent(deploymentId, forKey: .deploymentId)
        try c.encode(type, forKey: .type)
        try payload.encodeBody(to: c.superEncoder(forKey: .payload))
    }

    /// One line for people: `deployment.transition production #12 switching: switching production from v1 to v2`.
    public var summary: String { payload.summary }
}

/// Answer of `GET /v1/events`: the events after `since` (oldest first) and the id to ask after next.
public struct EventPage: Codable, Sendable {
    public var events: [Event]
    /// The last id in the log the daemon has seen (resume with `since=next`).
    public var next: Int64
    public init(events: [Event], next: Int64) {
        self.events = events
        self.next = next
    }
}
