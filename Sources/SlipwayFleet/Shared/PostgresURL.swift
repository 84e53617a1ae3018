import Foundation
import SlipwayCore

/// A `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=…` URL read from the environment variable that
/// `state.postgres.url_secret` names. Errors name the variable, never the URL (it holds a password).
public struct PostgresURL: Sendable, Equatable {
    /// libpq's sslmode: `prefer` and `require` encrypt without checking the server's certificate, `verify` (verify-ca,
    /// verify-full) checks it against the system's CAs and the host name.
    public enum TLS: String, Sendable, Equatable { case disable, prefer, require, verify }
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLS

    /// Parses `text`, the value of the variable `name`.
    public static func parse(_ text: String, name: String) throws(SlipwayError) -> PostgresURL {
        func bad(_ why: String) -> SlipwayError {
            .usage("\(name) (state.postgres.url_secret): \(why); expected postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        guard let c = URLComponents(string: text.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw bad("not a URL") }
        guard c.scheme == "postgres" || c.scheme == "postgresql" else { throw bad("the scheme is not postgres://") }
        guard let host = c.host, !host.isEmpty else { throw bad("no host") }
        guard let user = c.user, !user.isEmpty else { throw bad("no user") }
        let database = String(c.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw bad("no database name") }
        var tls = TLS.prefer
        if let mode = c.queryItems?.first(where: { $0.name == "sslmode" })?.value {
            switch mode {
            case "disable": tls = .disable
            case "allow", "prefer": tls = .prefer
            case "require": tls = .require
            case "verify-ca", "verify-full": tls = .verify
            default: throw bad("sslmode '\(mode)' is not one of disable, prefer, require, verify-ca, verify-full")
            }
        }
        return PostgresURL(host: host, port: c.port ?? 5432, user: user.removingPercentEncoding ?? user,
                           password: c.password.map { $0.removingPercentEncoding ?? $0 }, database: database, tls: tls)
    }

    /// The URL in the variable `state.postgres.url_secret` names, from this process's environment; nil when the config
    /// has no `state.postgres`.
    public static func configured(_ settings: SharedStateSettings, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(SlipwayError) -> PostgresURL?
    {
        guard let name = settings.postgresURLSecret else { return nil }
        guard let value = environment[name], !value.isEmpty else {
            throw SlipwayError.usage("state.postgres.url_secret: the environment variable \(name) is not set; export it with the shared state's postgres:// URL")
        }
        return try parse(value, name: name)
    }

    /// Where it points, without the password: `USER@HOST:PORT/DATABASE`.
    public var display: String { "\(user)@\(host):\(port)/\(database)" }
}
