import Foundation
import NIOSSL
import SlipwayCore
import SlipwayHTTP

/// How a controller speaks to one host's API: over ssh (`SSHHost`) or, for a host listed as `https://HOST:PORT`,
/// over the host daemon's HTTPS listener with its token (`HTTPSHost`).
public protocol HostTransport: Sendable {
    var destination: String { get }
    func connect() async throws(SlipwayError)
    func disconnect() async
    func request(_ method: String, _ path: String, body: [UInt8]?, contentType: String, timeout: Duration) async throws(SlipwayError) -> MiniHTTPClient.Response
}

extension SSHHost: HostTransport {}

/// A host reached over `slipway server --host-only --listen-tls` (no ssh): each call an HTTPS request carrying
/// `Authorization: Bearer TOKEN`, the host's certificate checked against `https_hosts.ca` (else the system's roots).
public struct HTTPSHost: HostTransport {
    public let destination: String
    let host: String
    let port: Int
    let token: String
    let http: MiniHTTPClient

    /// `destination`: `https://HOST[:PORT]` (port 7443 by default).
    public init(destination: String, token: String, caFile: String?) throws(SlipwayError) {
        guard let (host, port) = Self.parse(destination) else { throw .usage("expected a host like https://10.0.0.5:7443, got '\(destination)'") }
        self.destination = destination
        self.host = host
        self.port = port
        self.token = token
        do { http = MiniHTTPClient(tls: try MiniHTTPClient.tlsContext(caFile: caFile)) } catch {
            throw SlipwayError(.usage, "https_hosts.ca: cannot load \(caFile ?? "the system's roots") as PEM certificates", cause: error)
        }
    }

    /// `https://HOST[:PORT]` (an IPv6 address in brackets), nothing after it.
    static func parse(_ text: String) -> (String, Int)? {
        guard let c = URLComponents(string: text), c.scheme == "https", let host = c.host, !host.isEmpty, c.path.isEmpty || c.path == "/",
              c.query == nil, c.user == nil else { return nil }
        let port = c.port ?? 7443
        guard (1...65535).contains(port) else { return nil }
        return (host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host, port)
    }

    /// Checks the host answers and takes the token.
    public func connect() async throws(SlipwayError) {
        let r = try await request("GET", "/v1/health", body: nil, contentType: "application/json", timeout: .seconds(10))
        guard r.status == 200 else {
            let said = (try? SlipwayJSON.decoder().decode(ErrorBody.self, from: Data(r.body)))?.error.message ?? "\(r.status) \(r.reason)"
            throw SlipwayError(.unavailable, "\(destination): \(said)")
        }
    }

    public func disconnect() async {}

    public func request(_ method: String, _ path: String, body: [UInt8]?, contentType: String, timeout: Duration) async throws(SlipwayError) -> MiniHTTPClient.Response {
        var headers = [("Authorization", "Bearer " + token)]
        if body != nil { headers.append(("Content-Type", contentType)) }
        do { return try await http.request(method, .tcp(host: host, port: port), path: path, headers: headers, body: body, timeout: timeout) } catch {
            throw SlipwayError(.unavailable, "cannot reach \(destination): \(error)")
        }
    }
}
