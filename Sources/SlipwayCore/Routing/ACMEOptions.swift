/// `router.tls: acme` with `router.acme:`: where the router obtains and renews the environment's certificate
/// (an RFC 8555 CA), how it proves control of the names, and where it keeps the account key and certificates.
public struct ACMEOptions: Codable, Sendable, Equatable, Hashable {
    public static let letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"
    public static let letsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory"

    /// The CA's directory URL.
    public var directory: String
    /// The account's contact (the CA mails expiry warnings there).
    public var email: String?
    /// The PEM of the CA's own API certificate (a private CA); nil: the system's roots.
    public var caFile: String?
    /// `http-01` (port 80, plain HTTP) or `tls-alpn-01` (port 443, the TLS handshake).
    public var challenge: String
    /// Where the account key, the certificates and their renewal state live (0700; files 0600).
    public var storage: String
    /// `on_demand:`: certificates for names outside `router.hosts`, obtained at their first handshake when this asks.
    public var onDemand: OnDemand?
    /// A fleet environment with shared state: its controller obtains the certificate once (answering the challenge on
    /// every host) and installs it on each host; the hosts' routers serve it and never ask the CA themselves.
    /// (Optional in the JSON: route tables a router kept from before it existed still decode.)
    public var fleet: Bool?

    /// On-demand TLS: at a handshake for a name the route takes but no certificate covers, the router asks
    /// `ask` (`GET ask?domain=NAME`; 200 approves) and only then the CA, within `maxPerHour` new names an hour.
    public struct OnDemand: Codable, Sendable, Equatable, Hashable {
        public var ask: String
        public var maxPerHour: Int

        public init(ask: String, maxPerHour: Int = 20) {
            self.ask = ask
            self.maxPerHour = maxPerHour
        }

        enum CodingKeys: String, CodingKey {
            case ask
            case maxPerHour = "max_per_hour"
        }
    }

    public init(directory: String = ACMEOptions.letsEncrypt, email: String? = nil, caFile: String? = nil, challenge: String = "http-01", storage: String,
                onDemand: OnDemand? = nil) {
        self.onDemand = onDemand
        self.directory = directory
        self.email = email
        self.caFile = caFile
        self.challenge = challenge
        self.storage = storage
    }

    public static let challenges = ["http-01", "tls-alpn-01"]

    /// The files an environment's ACME certificate is kept in under `storage`.
    public static func files(storage: String, environment: String) -> (cert: String, key: String) {
        ("\(storage)/certs/\(environment).crt", "\(storage)/certs/\(environment).key")
    }

    /// The files of a certificate obtained on demand for `name`.
    public static func onDemandFiles(storage: String, environment: String, name: String) -> (cert: String, key: String) {
        ("\(storage)/on-demand/\(environment)/\(name).crt", "\(storage)/on-demand/\(environment)/\(name).key")
    }

    /// The renewal state the router writes and the daemon's alerts read.
    public var stateFile: String { "\(storage)/state.json" }

    enum CodingKeys: String, CodingKey {
        case directory, email, challenge, storage, fleet
        case onDemand = "on_demand"
        case caFile = "ca_file"
    }
}
