import Foundation
import SlipwayHTTP

/// An RFC 8555 client: the directory, nonces, the account, and signed POSTs (each retried with a fresh nonce
/// when the CA says `badNonce`). Errors come back as `ACMEFailure`s that say whether to wait and how long.
public actor ACMEClient {
    public struct Settings: Sendable, Equatable {
        /// The directory URL (`https://acme-v02.api.letsencrypt.org/directory` by default).
        public var directory: String
        public var email: String?
        /// A PEM file of the CA's own API certificate (a private CA); nil: the system's roots.
        public var caFile: String?

        public init(directory: String, email: String? = nil, caFile: String? = nil) {
            self.directory = directory
            self.email = email
            self.caFile = caFile
        }
    }

    public let settings: Settings
    public let key: AccountKey
    let http: MiniHTTPClient
    let timeout: Duration
    var directory: ACMEDirectory?
    var nonce: String?
    var account: String?

    public init(settings: Settings, key: AccountKey, timeout: Duration = .seconds(30)) throws(ACMEFailure) {
        self.settings = settings
        self.key = key
        self.timeout = timeout
        if settings.directory.lowercased().hasPrefix("https://") {
            do { http = MiniHTTPClient(tls: try MiniHTTPClient.tlsContext(caFile: settings.caFile)) } catch {
                throw ACMEFailure(.storage, "cannot read the CA certificate \(settings.caFile ?? "(system roots)") for \(settings.directory); expected PEM", cause: "\(error)")
            }
        } else {
            http = MiniHTTPClient()
        }
    }

    /// One HTTP exchange with the CA; transport failures and 5xx are `unreachable`.
    func fetch(_ method: String, _ url: String, body: Data? = nil, accept: String? = nil) async throws(ACMEFailure) -> MiniHTTPClient.Response {
        guard let u = URL(string: url), let host = u.host, let scheme = u.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            throw ACMEFailure(.protocolError, "the CA gave a URL Slipway cannot use: \(url)")
        }
        let port = u.port ?? (scheme == "https" ? 443 : 80)
        let path = (u.path.isEmpty ? "/" : u.path) + (u.query.map { "?\($0)" } ?? "")
        var headers: [(String, String)] = [("User-Agent", "slipway-acme")]
        if body != nil { headers.append(("Content-Type", "application/jose+json")) }
        if let accept { headers.append(("Accept", accept)) }
        let response: MiniHTTPClient.Response
        do {
            response = try await http.request(method, .tcp(host: host, port: port), path: path, headers: headers, body: body.map(Array.init), timeout: timeout)
        } catch {
            throw ACMEFailure(.unreachable, "cannot reach the ACME CA at \(scheme)://\(host):\(port)", cause: "\(error)")
        }
        if let n = response.header("Replay-Nonce") { nonce = n }
        return response
    }

    func loadDirectory() async throws(ACMEFailure) -> ACMEDirectory {
        if let directory { return directory }
        let r = try await fetch("GET", settings.directory)
        guard r.status == 200 else { throw Self.failure(r, what: "reading the ACME directory \(settings.directory)") }
        let d: ACMEDirectory = try Self.decode(r, what: "the ACME directory")
        directory = d
        return d
    }

    func takeNonce() async throws(ACMEFailure) -> String {
        if let n = nonce {
            nonce = nil
            return n
        }
        let d = try await loadDirectory()
        // GET (not HEAD) newNonce: RFC 8555 §7.2 allows both; the answer carries Replay-Nonce.
        let r = try await fetch("GET", d.newNonce)
        guard let n = r.header("Replay-Nonce") else { throw ACMEFailure(.protocolError, "the CA's newNonce gave no Replay-Nonce (answered \(r.status))") }
        nonce = nil
        return n
    }

    /// A signed POST (`payload` nil: POST-as-GET) with the account's `kid`, or `signer`. A `badNonce` answer is
    /// retried with the nonce it carries, up to five times.
    public func post(_ url: String, payload: Data?, signer: JWS.Signer? = nil, accept: String? = nil) async throws(ACMEFailure) -> MiniHTTPClient.Response {
        let how: JWS.Signer
        if let signer { how = signer } else { how = .kid(try await accountURL()) }
        var last: MiniHTTPClient.Response?
        for _ in 0..<5 {
            let body = try JWS.sign(payload: payload, url: url, nonce: try await takeNonce(), key: key, signer: how)
            let r = try await fetch("POST", url, body: body, accept: accept)
            if r.status == 400, let p = try? JSONDecoder().decode(ACMEProblem.self, from: Data(r.body)), p.type.hasSuffix(":badNonce") {
                last = r
                continue
            }
            return r
        }
        throw Self.failure(last!, what: "a signed request to \(url) (five bad nonces in a row)")
    }

    /// The account's URL: registered (or found, for a key the CA knows) on first use.
    public func accountURL() async throws(ACMEFailure) -> String {
        if let account { return account }
        let d = try await loadDirectory()
        var payload = "{\"termsOfServiceAgreed\":true"
        if let email = settings.email { payload += ",\"contact\":[\(try JWS.quote("mailto:" + email))]" }
        payload += "}"
        let r = try await post(d.newAccount, payload: Data(payload.utf8), signer: .jwk)
        guard r.status == 200 || r.status == 201, let location = r.header("Location") else {
            throw Self.failure(r, what: "registering the ACME account")
        }
        account = location
        return location
    }

    static func decode<T: Decodable>(_ r: MiniHTTPClient.Response, what: String) throws(ACMEFailure) -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(r.body)) } catch {
            throw ACMEFailure(.protocolError, "the CA's answer for \(what) is not what RFC 8555 describes", cause: "\(error)")
        }
    }

    /// An error answer as a failure: its problem document, and the wait it asks for.
    static func failure(_ r: MiniHTTPClient.Response, what: String, now: Date = Date()) -> ACMEFailure {
        let problem = try? JSONDecoder().decode(ACMEProblem.self, from: Data(r.body))
        let wait = retryAfter(r.header("Retry-After"), now: now)
        let detail = problem?.summary ?? "HTTP \(r.status)"
        if r.status == 429 || problem?.type.hasSuffix(":rateLimited") == true {
            return ACMEFailure(.rateLimited, "the CA limited the rate while \(what): \(detail)", retryAfter: wait, cause: problem?.type)
        }
        if r.status >= 500 {
            return ACMEFailure(.unreachable, "the CA failed while \(what): \(detail)", retryAfter: wait, cause: problem?.type)
        }
        return ACMEFailure(.refused, "the CA refused \(what): \(detail)", retryAfter: wait, cause: problem?.type)
    }

    /// `Retry-After`: seconds, or an HTTP date (RFC 9110 §10.2.3).
    public static func retryAfter(_ header: String?, now: Date) -> Duration? {
        guard let h = header?.trimmingCharacters(in: .whitespaces), !h.isEmpty else { return nil }
        if let s = Int64(h) { return .seconds(max(0, s)) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = f.date(from: h) else { return nil }
        return .seconds(max(0, Int64(date.timeIntervalSince(now).rounded(.up))))
    }
}
