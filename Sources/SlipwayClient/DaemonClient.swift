import Foundation
import SlipwayCore
import SlipwayHTTP

/// Talks to `slipway server` over its admin socket. Errors come back as the daemon's `SlipwayError`.
public struct DaemonClient: Sendable {
    public let socket: String
    /// Where requests go: the admin socket, or a daemon's TCP listener (`--server`).
    let endpoint: HTTPEndpoint
    /// Sent as `Authorization: Bearer …` when set (`--token`, `SLIPWAY_TOKEN`); never printed.
    let token: String?
    let http: MiniHTTPClient

    public init(socket: String, token: String? = nil) {
        self.socket = socket
        endpoint = .unix(path: socket)
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        http = MiniHTTPClient()
    }

    /// A daemon's TCP listener: `https://host:7443` (verified against `caFile`, else the system's roots), or
    /// `http://127.0.0.1:7443` for a loopback listener without TLS.
    public init(server: String, token: String?, caFile: String? = nil) throws(SlipwayError) {
        let secure = server.hasPrefix("https://")
        var rest = server
        if secure { rest.removeFirst("https://".count) } else if server.hasPrefix("http://") { rest.removeFirst("http://".count) }
        if rest.hasSuffix("/") { rest.removeLast() }
        guard let address = ListenAddress(parsing: rest) else {
            throw .usage("--server: expected https://HOST:PORT (or http://127.0.0.1:PORT), got '\(server)'")
        }
        if caFile != nil, !secure { throw .usage("--ca: only used with an https:// --server, got '\(server)'") }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) { throw .usage("--ca: cannot read \(caFile); expected a PEM certificate file") }
        socket = server
        endpoint = .tcp(host: address.host, port: address.port)
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        guard secure else {
            http = MiniHTTPClient()
            return
        }
        do { http = MiniHTTPClient(tls: try MiniHTTPClient.tlsContext(caFile: caFile)) } catch {
            throw SlipwayError(.usage, "--ca: \(caFile ?? "the system's trust roots") holds no usable PEM certificate", cause: error)
        }
    }

    public func get<T: Decodable>(_ path: String, as type: T.Type = T.self) async throws(SlipwayError) -> T {
        try decode(try await call("GET", path, body: nil))
    }

    public func post<T: Decodable>(_ path: String, _ body: some Encodable, as type: T.Type = T.self, timeout: Duration = .seconds(3600)) async throws(SlipwayError) -> T {
        let data = try SlipwayJSON.encode(body, what: "the request")
        return try decode(try await call("POST", path, body: Array(data), timeout: timeout))
    }

    public func put<T: Decodable>(_ path: String, _ body: some Encodable, as type: T.Type = T.self) async throws(SlipwayError) -> T {
        let data = try SlipwayJSON.encode(body, what: "the request")
        return try decode(try await call("PUT", path, body: Array(data)))
    }

    public func text(_ path: String) async throws(SlipwayError) -> String {
        try await call("GET", path, body: nil).bodyText
    }

    func call(_ method: String, _ path: String, body: [UInt8]?, timeout: Duration = .seconds(60)) async throws(SlipwayError) -> MiniHTTPClient.Response {
        let r: MiniHTTPClient.Response
        do {
            var headers: [(String, String)] = body == nil ? [] : [("Content-Type", "application/json")]
            if let token { headers.append(("Authorization", "Bearer \(token)")) }
            r = try await http.request(method, endpoint, path: path, headers: headers, body: body, timeout: timeout)
        } catch {
            throw SlipwayError(.unavailable, "cannot reach the slipway daemon at \(socket); start it with 'slipway server --config FILE'"
                               + (endpoint == .unix(path: socket) ? "" : ", or check --server and --ca"), cause: error)
        }
        guard (200..<300).contains(r.status) else {
            if let e = try? SlipwayJSON.decoder().decode(ErrorBody.self, from: Data(r.body)) { throw e.error }
            throw SlipwayError(.internal, "the daemon answered \(r.status) \(r.reason)", cause: r.bodyText)
        }
        return r
    }

    func decode<T: Decodable>(_ r: MiniHTTPClient.Response) throws(SlipwayError) -> T {
        do { return try SlipwayJSON.decoder().decode(T.self, from: Data(r.body)) } catch {
            throw SlipwayError(.internal, "the daemon sent an unexpected answer", cause: error)
        }
    }

    /// What the CLI claims about who asks: `SLIPWAY_ACTOR` (say, a ticket or the person behind a shared
    /// account), or nothing. The daemon records the OS user the kernel reports for the admin socket as the
    /// actor and keeps this only as the `on_behalf_of` note.
    public static var actor: String {
        ProcessInfo.processInfo.environment["SLIPWAY_ACTOR"] ?? ""
    }
}
