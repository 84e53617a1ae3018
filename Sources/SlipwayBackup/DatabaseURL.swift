import Foundation
import SlipwayCore

/// A database connection URL split so that the password travels only in the child's environment,
/// never in argv (where `ps` shows it), logs or errors.
public struct DatabaseURL: Sendable, Equatable {
    public var scheme: String
    public var user: String?
    public var password: String?
    public var host: String?
    public var port: Int?
    public var database: String
    public var query: [(String, String)]

    public static func == (a: DatabaseURL, b: DatabaseURL) -> Bool {
        a.redacted == b.redacted && a.password == b.password
    }

    public init(parsing text: String, secret: String) throws(SlipwayError) {
        guard let c = URLComponents(string: text), let scheme = c.scheme else {
            throw .usage("secret \(secret) is not a URL like postgres://user:password@host:5432/db")
        }
        self.scheme = scheme
        user = c.percentEncodedUser?.removingPercentEncoding
        password = c.percentEncodedPassword?.removingPercentEncoding
        host = (c.host?.isEmpty ?? true) ? nil : c.host
        port = c.port
        database = String(c.path.drop(while: { $0 == "/" }))
        query = (c.queryItems ?? []).map { ($0.name, $0.value ?? "") }
        guard !database.isEmpty else { throw .usage("secret \(secret) names no database (the URL's path, e.g. …/shop)") }
    }

    /// The URL with the password left out: safe to pass as an argument or print.
    public var redacted: String {
        var c = URLComponents()
        c.scheme = scheme
        c.user = user
        c.host = host
        c.port = port
        c.path = "/" + database
        if !query.isEmpty { c.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        return c.string ?? "\(scheme)://\(host ?? "")/\(database)"
    }

    /// The same server, another database (scratch restores).
    public func with(database: String) -> DatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }

    public var fullURL: String {
        guard let password else { return redacted }
        var c = URLComponents(string: redacted)!
        c.password = password
        return c.string ?? redacted
    }

    func queryValue(_ name: String) -> String? { query.first { $0.0 == name }?.1 }

    // MARK: PostgreSQL

    /// Environment for libpq programs: the password in PGPASSWORD.
    public func postgresEnvironment(_ base: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var e = base
        e["PGPASSWORD"] = password
        e["PGCONNECT_TIMEOUT"] = e["PGCONNECT_TIMEOUT"] ?? "10"
        if password == nil { e.removeValue(forKey: "PGPASSWORD") }
        return e
    }

    // MARK: MySQL / MariaDB

    /// Connection flags for the mysql/mariadb clients; the password goes in MYSQL_PWD.
    public var mysqlArguments: [String] {
        var a: [String] = []
        if let host { a.append("--host=\(host)") }
        if let port { a.append("--port=\(port)") }
        if let socket = queryValue("socket") { a.append("--socket=\(socket)") }
        if let user { a.append("--user=\(user)") }
        return a
    }

    public func mysqlEnvironment(_ base: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var e = base
        if let password { e["MYSQL_PWD"] = password } else { e.removeValue(forKey: "MYSQL_PWD") }
        return e
    }
}
