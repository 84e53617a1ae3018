/// `router.listen_tls` with `router.tls`: an environment's HTTPS address, the certificate it presents there
/// (its hosts pick it by SNI when environments share the address), whether plain HTTP is redirected to it,
/// and the HSTS header its answers carry. Part of the route table the router process gets.
public struct RouterTLS: Codable, Sendable, Equatable {
    public var listen: ListenAddress
    /// The PEM certificate chain and private key files (absolute); the router reads them, and again when they change.
    public var certFile: String
    public var keyFile: String
    /// Plain HTTP requests get `308` to `https://` (except ACME's HTTP-01 path).
    public var redirect: Bool
    /// `Strict-Transport-Security: max-age=` on HTTPS answers (nil: none).
    public var hstsSeconds: Int64?
    /// `router.http2`: ALPN offers `h2` on its HTTPS address (each stream bridged to the HTTP/1.1 path).
    public var http2: Bool
    /// `tls: acme`: the router obtains and renews the certificate kept in `certFile`/`keyFile` (nil: files the user provides).
    public var acme: ACMEOptions?

    public init(listen: ListenAddress, certFile: String, keyFile: String, redirect: Bool = true, hstsSeconds: Int64? = nil, http2: Bool = false,
                acme: ACMEOptions? = nil) {
        self.http2 = http2
        self.acme = acme
        self.listen = listen
        self.certFile = certFile
        self.keyFile = keyFile
        self.redirect = redirect
        self.hstsSeconds = hstsSeconds
    }

    /// The path HTTP-01 challenges are answered on: never redirected.
    public static let acmeChallengePrefix = "/.well-known/acme-challenge/"

    enum CodingKeys: String, CodingKey {
        case listen, redirect, http2, acme
        case certFile = "cert_file", keyFile = "key_file", hstsSeconds = "hsts_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        listen = try c.decode(ListenAddress.self, forKey: .listen)
        certFile = try c.decode(String.self, forKey: .certFile)
        keyFile = try c.decode(String.self, forKey: .keyFile)
        redirect = try c.decodeIfPresent(Bool.self, forKey: .redirect) ?? true
        hstsSeconds = try c.decodeIfPresent(Int64.self, forKey: .hstsSeconds)
        http2 = try c.decodeIfPresent(Bool.self, forKey: .http2) ?? false
        acme = try c.decodeIfPresent(ACMEOptions.self, forKey: .acme)
    }
}
