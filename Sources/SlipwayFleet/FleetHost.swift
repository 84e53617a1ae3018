import Foundation
import SlipwayCore
import SlipwayHTTP

/// What a fleet deploy asks of one host (`HostClient` over ssh; a fake in unit tests).
public protocol FleetHost: Sendable {
    var name: String { get }
    func connect() async throws(SlipwayError)
    func status() async throws(SlipwayError) -> HostStatus
    func stageConfig(app: String, yaml: String) async throws(SlipwayError)
    func stage(app: String, version: String, digest: String, artifact: [UInt8]) async throws(SlipwayError) -> HostStageResult
    /// Puts an image release's image in the host's runtime (sent only when it lacks it; checked there against its id).
    func stageImage(app: String, _ image: FleetImage) async throws(SlipwayError)
    func activate(app: String, _ request: HostActivateRequest, deadline: Duration) async throws(SlipwayError) -> HostActivation
    func lease(app: String, _ request: HostLeaseRequest) async throws(SlipwayError) -> FleetLease
    /// Router traffic per release of `environment` on this host (requests and 5xx since its router started).
    func traffic(app: String, environment: String) async throws(SlipwayError) -> [String: RequestCounts]
    func revert(app: String, _ request: HostRevertRequest, deadline: Duration) async throws(SlipwayError) -> HostActivation
    /// Per release of `environment` on this host: router counters and windows, instances and their resources.
    func samples(app: String, environment: String) async throws(SlipwayError) -> [String: ReleaseSample]
    func maintenance(app: String, _ request: MaintenanceRequest) async throws(SlipwayError)
    func disconnect() async
}

extension FleetHost {
    public func stageImage(app: String, _ image: FleetImage) async throws(SlipwayError) {
        throw .failed("\(name) cannot take image releases")
    }

    /// Maintenance on an environment here (a fleet's data rollback holds the other hosts' requests while one restores).
    public func maintenance(app: String, _ request: MaintenanceRequest) async throws(SlipwayError) {}

    /// From the counters alone (a host that reports nothing more).
    public func samples(app: String, environment: String) async throws(SlipwayError) -> [String: ReleaseSample] {
        try await traffic(app: app, environment: environment).mapValues { ReleaseSample(counts: $0) }
    }
}

/// A host's daemon over ssh or HTTPS (`HostTransport`): the host API, JSON in and out, errors as the host's `SlipwayError`.
public struct HostClient: FleetHost, CertificateHost {
    public let transport: any HostTransport
    public var name: String { transport.destination }

    public init(_ transport: any HostTransport) { self.transport = transport }

    public func connect() async throws(SlipwayError) { try await transport.connect() }
    public func disconnect() async { await transport.disconnect() }

    public func status() async throws(SlipwayError) -> HostStatus {
        try decode(try await call("GET", "/v1/host/status", body: nil, timeout: .seconds(30)))
    }

    public func stageConfig(app: String, yaml: String) async throws(SlipwayError) {
        let _: [String: String] = try decode(try await call("PUT", "/v1/host/apps/\(app)/config", body: try json(HostConfigRequest(yaml: yaml)), timeout: .seconds(60)))
    }

    public func stage(app: String, version: String, digest: String, artifact: [UInt8]) async throws(SlipwayError) -> HostStageResult {
        try decode(try await call("POST", "/v1/host/apps/\(app)/releases/\(version)?digest=\(digest)", body: artifact, contentType: "application/gzip",
                                  timeout: .seconds(3600)))
    }

    public func stageImage(app: String, _ image: FleetImage) async throws(SlipwayError) {
        let path = "/v1/host/apps/\(app)/images?" + image.query
        let state: HostImageState = try decode(try await call("GET", path, body: nil, timeout: .seconds(60)))
        guard !state.present else { return }
        guard let archive = FileManager.default.contents(atPath: image.archive) else { throw SlipwayError(.internal, "cannot read the saved image \(image.archive)") }
        let _: HostImageState = try decode(try await call("POST", path, body: Array(archive), contentType: "application/gzip", timeout: .seconds(3600)))
    }

    public func traffic(app: String, environment: String) async throws(SlipwayError) -> [String: RequestCounts] {
        try decode(try await call("GET", "/v1/host/apps/\(app)/traffic?env=\(environment)", body: nil, timeout: .seconds(30)))
    }

    public func samples(app: String, environment: String) async throws(SlipwayError) -> [String: ReleaseSample] {
        try decode(try await call("GET", "/v1/host/apps/\(app)/samples?env=\(environment)", body: nil, timeout: .seconds(30)))
    }

    public func maintenance(app: String, _ request: MaintenanceRequest) async throws(SlipwayError) {
        let _: [String: String] = try decode(try await call("POST", "/v1/host/apps/\(app)/maintenance", body: try json(request), timeout: .seconds(60)))
    }

    /// What `rollback --with-data` to `version` would restore on this host.
    public func rollbackPlan(app: String, environment: String, version: String?) async throws(SlipwayError) -> DataRollbackPlan {
        try decode(try await call("GET", "/v1/host/apps/\(app)/rollback-plan?env=\(environment)" + (version.map { "&version=\($0)" } ?? ""), body: nil, timeout: .seconds(60)))
    }

    public func lease(app: String, _ request: HostLeaseRequest) async throws(SlipwayError) -> FleetLease {
        try decode(try await call("POST", "/v1/host/apps/\(app)/lease", body: try json(request), timeout: .seconds(30)))
    }

    public func activate(app: String, _ request: HostActivateRequest, deadline: Duration) async throws(SlipwayError) -> HostActivation {
        try decode(try await call("POST", "/v1/host/apps/\(app)/activate?deadline=\(deadline.components.seconds)", body: try json(request),
                                  timeout: deadline + .seconds(30)))
    }

    public func challenge(app: String, _ answer: ChallengeAnswer) async throws(SlipwayError) {
        let _: [String: String] = try decode(try await call("POST", "/v1/host/apps/\(app)/acme/challenges", body: try json(answer), timeout: .seconds(60)))
    }

    public func installCertificate(app: String, environment: String, _ install: CertificateInstall) async throws(SlipwayError) {
        let _: [String: String] = try decode(try await call("PUT", "/v1/host/apps/\(app)/certificates/\(environment)", body: try json(install), timeout: .seconds(60)))
    }

    public func revert(app: String, _ request: HostRevertRequest, deadline: Duration) async throws(SlipwayError) -> HostActivation {
        try decode(try await call("POST", "/v1/host/apps/\(app)/revert?deadline=\(deadline.components.seconds)", body: try json(request),
                                  timeout: deadline + .seconds(30)))
    }

    func json(_ value: some Encodable) throws(SlipwayError) -> [UInt8] { Array(try SlipwayJSON.encode(value, what: "the request")) }

    func call(_ method: String, _ path: String, body: [UInt8]?, contentType: String = "application/json", timeout: Duration) async throws(SlipwayError) -> [UInt8] {
        let r = try await transport.request(method, path, body: body, contentType: contentType, timeout: timeout)
        guard (200..<300).contains(r.status) else {
            if let e = try? SlipwayJSON.decoder().decode(ErrorBody.self, from: Data(r.body)) {
                var error = e.error
                error.message = "\(name): " + error.message
                throw error
            }
            throw SlipwayError(.unavailable, "\(name) answered \(r.status) \(r.reason); is `slipway server --host-only` running there?", cause: r.bodyText)
        }
        return r.body
    }

    func decode<T: Decodable>(_ body: [UInt8]) throws(SlipwayError) -> T {
        do { return try SlipwayJSON.decoder().decode(T.self, from: Data(body)) } catch {
            throw SlipwayError(.unavailable, "\(name) sent an unexpected answer; is its slipway the same version?", cause: error)
        }
    }
}
