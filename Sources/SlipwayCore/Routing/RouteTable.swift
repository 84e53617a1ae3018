
/// The router's whole configuration: one listener per environment, each with weighted pools (one per live release).
/// Environments whose listeners share an address are told apart by their `route` (host and path).
/// The daemon pushes it over the control socket; the router persists it atomically and restores it on start.
public struct RouteTable: Codable, Sendable, Equatable {
    public var generation: Int
    public var listeners: [ListenerTable]

    public init(generation: Int = 0, listeners: [ListenerTable] = []) {
        self.generation = generation
        self.listeners = listeners
    }

    public func listener(_ name: String) -> ListenerTable? { listeners.first { $0.name == name } }
}

public struct ListenerTable: Codable, Sendable, Equatable {
    /// The environment's name.
    public var name: String
    public var listen: ListenAddress
    public var drainTimeoutMs: Int64
    public var pools: [Pool]
    /// Set while the environment is in maintenance: 503 with a page, or requests held.
    public var maintenance: MaintenanceMode?
    /// Connect, response and idle-client timeouts (nil: the defaults, 3 s / 60 s / 75 s).
    public var timeouts: Timeouts?
    /// Whether requests get `X-Forwarded-For/Proto/Host` (nil: yes).
    public var forwardedHeaders: Bool?
    /// Whether a request without `X-Request-Id` gets the router's request id (nil: yes).
    public var requestIdHeader: Bool?
    /// While several pools serve (a canary): how a client stays on the pool it got. With a header, pools
    /// take consecutive buckets of the value's hash in table order (the canary is listed first).
    public var sticky: StickyRouting?
    /// While a canary runs with `retry_on_stable`: the canary's pool. A body-less GET or HEAD it answers
    /// with a 5xx is sent once more to another pool, and the client gets that answer.
    public var retryCanary: String?
    /// Which requests on its address are this environment's (nil: all of them; the address is its own).
    public var route: RouteMatch?
    /// Its HTTPS address and certificate (nil: plain HTTP only).
    public var tls: RouterTLS?

    /// The headers the router adds to each request on its way to an instance.
    public struct RequestHeaders: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let forwarded = RequestHeaders(rawValue: 1)
        public static let requestId = RequestHeaders(rawValue: 2)
        public static let all: RequestHeaders = [.forwarded, .requestId]
        /// The request came over TLS: `X-Forwarded-Proto: https`, whatever the client sent.
        public static let https = RequestHeaders(rawValue: 4)
    }

    public var requestHeaders: RequestHeaders {
        var adds: RequestHeaders = []
        if forwardedHeaders ?? true { adds.insert(.forwarded) }
        if requestIdHeader ?? true { adds.insert(.requestId) }
        return adds
    }

    public struct Timeouts: Codable, Sendable, Equatable {
        public var connectMs: Int64
        public var responseMs: Int64
        public var idleMs: Int64
        public init(connectMs: Int64 = 3000, responseMs: Int64 = 60_000, idleMs: Int64 = 75_000) {
            self.connectMs = connectMs
            self.responseMs = responseMs
            self.idleMs = idleMs
        }
        enum CodingKeys: String, CodingKey { case connectMs = "connect_ms", responseMs = "response_ms", idleMs = "idle_ms" }
    }

    public init(name: String, listen: ListenAddress, drainTimeoutMs: Int64 = 10_000, pools: [Pool] = [], maintenance: MaintenanceMode? = nil,
                timeouts: Timeouts? = nil, forwardedHeaders: Bool? = nil, requestIdHeader: Bool? = nil, sticky: StickyRouting? = nil) {
        self.sticky = sticky
        self.forwardedHeaders = forwardedHeaders
        self.requestIdHeader = requestIdHeader
        self.maintenance = maintenance
        self.timeouts = timeouts
        self.name = name
        self.listen = listen
        self.drainTimeoutMs = drainTimeoutMs
        self.pools = pools
    }

    enum CodingKeys: String, CodingKey {
        case name, listen, pools, maintenance, timeouts, sticky
        case retryCanary = "retry_canary", route, tls
        case drainTimeoutMs = "drain_timeout_ms"
        case forwardedHeaders = "forwarded_headers", requestIdHeader = "request_id_header"
    }

    /// The release that receives traffic (the heaviest pool), if any.
    public var servingRelease: String? {
        pools.filter { $0.weight > 0 && !$0.backends.isEmpty }.max { $0.weight < $1.weight }?.name
    }
}

public struct Pool: Codable, Sendable, Equatable {
    /// The release version.
    public var name: String
    public var weight: Int
    public var backends: [Backend]

    public init(name: String, weight: Int = 100, backends: [Backend]) {
        self.name = name
        self.weight = weight
        self.backends = backends
    }
}

public struct Backend: Codable, Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// Live numbers for one pool, as the control API reports them: totals since the router started, and
/// sliding windows ("10s", "1m", "5m").
public struct PoolStatsSnapshot: Codable, Sendable, Equatable {
    public var requests: Int
    public var inflight: Int
    public var responses2xx: Int
    public var responses3xx: Int
    public var responses4xx: Int
    public var responses5xx: Int
    public var upstreamErrors: Int
    /// Open router → instance connections.
    public var connections: Int
    /// Times reading from an instance paused because the client could not take the response as fast.
    public var backpressurePauses: Int
    public var windows: [String: WindowStats]

    public init(requests: Int = 0, inflight: Int = 0, responses2xx: Int = 0, responses3xx: Int = 0,
                responses4xx: Int = 0, responses5xx: Int = 0, upstreamErrors: Int = 0, connections: Int = 0, backpressurePauses: Int = 0,
                windows: [String: WindowStats] = [:]) {
        self.requests = requests
        self.inflight = inflight
        self.responses2xx = responses2xx
        self.responses3xx = responses3xx
        self.responses4xx = responses4xx
        self.responses5xx = responses5xx
        self.upstreamErrors = upstreamErrors
        self.connections = connections
        self.backpressurePauses = backpressurePauses
        self.windows = windows
    }

    enum CodingKeys: String, CodingKey {
        case requests, inflight, connections, windows
        case responses2xx = "responses_2xx", responses3xx = "responses_3xx", responses4xx = "responses_4xx"
        case responses5xx = "responses_5xx", upstreamErrors = "upstream_errors", backpressurePauses = "backpressure_pauses"
    }

    /// Reads what a router of this or an earlier version reports (a newer daemon may meet an older router
    /// that is still serving): counters it does not have yet read as 0.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int { try c.decodeIfPresent(Int.self, forKey: key) ?? 0 }
        self.init(requests: try count(.requests), inflight: try count(.inflight), responses2xx: try count(.responses2xx),
                  responses3xx: try count(.responses3xx), responses4xx: try count(.responses4xx), responses5xx: try count(.responses5xx),
                  upstreamErrors: try count(.upstreamErrors), connections: try count(.connections),
                  backpressurePauses: try count(.backpressurePauses),
                  windows: try c.decodeIfPresent([String: WindowStats].self, forKey: .windows) ?? [:])
    }
}

/// One sliding window of a pool: requests that ended in it, by class, and their latency percentiles.
public struct WindowStats: Codable, Sendable, Equatable {
    public var requests: Int
    public var responses2xx: Int
    public var responses3xx: Int
    public var responses4xx: Int
    public var responses5xx: Int
    /// Ended without a complete response.
    public var failed: Int
    public var upstreamErrors: Int
    public var p50Ms: Double
    public var p90Ms: Double
    /// Absent from routers older than this field (decoded as 0: not measured).
    public var p95Ms: Double = 0
    public var p99Ms: Double
    public var maxMs: Double

    public init(requests: Int = 0, responses2xx: Int = 0, responses3xx: Int = 0, responses4xx: Int = 0, responses5xx: Int = 0,
                failed: Int = 0, upstreamErrors: Int = 0, p50Ms: Double = 0, p90Ms: Double = 0, p99Ms: Double = 0, maxMs: Double = 0) {
        self.requests = requests
        self.responses2xx = responses2xx
        self.responses3xx = responses3xx
        self.responses4xx = responses4xx
        self.responses5xx = responses5xx
        self.failed = failed
        self.upstreamErrors = upstreamErrors
        self.p50Ms = p50Ms
        self.p90Ms = p90Ms
        self.p99Ms = p99Ms
        self.maxMs = maxMs
    }

    /// 5xx answers and failed requests over all requests (0 when there were none).
    public var errorRate: Double { requests == 0 ? 0 : Double(responses5xx + failed) / Double(requests) }

    enum CodingKeys: String, CodingKey {
        case requests, failed
        case responses2xx = "responses_2xx", responses3xx = "responses_3xx", responses4xx = "responses_4xx"
        case responses5xx = "responses_5xx", upstreamErrors = "upstream_errors"
        case p50Ms = "p50_ms", p90Ms = "p90_ms", p95Ms = "p95_ms", p99Ms = "p99_ms", maxMs = "max_ms"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(requests: try c.decode(Int.self, forKey: .requests), responses2xx: try c.decode(Int.self, forKey: .responses2xx),
                  responses3xx: try c.decode(Int.self, forKey: .responses3xx), responses4xx: try c.decode(Int.self, forKey: .responses4xx),
                  responses5xx: try c.decode(Int.self, forKey: .responses5xx), failed: try c.decode(Int.self, forKey: .failed),
                  upstreamErrors: try c.decode(Int.self, forKey: .upstreamErrors), p50Ms: try c.decode(Double.self, forKey: .p50Ms),
                  p90Ms: try c.decode(Double.self, forKey: .p90Ms), p99Ms: try c.decode(Double.self, forKey: .p99Ms),
                  maxMs: try c.decode(Double.self, forKey: .maxMs))
        p95Ms = try c.decodeIfPresent(Double.self, forKey: .p95Ms) ?? 0
    }
}

/// `listener → pool → stats`.
public typealias RouterStatsReport = [String: [String: PoolStatsSnapshot]]
