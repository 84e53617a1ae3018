import Foundation
import Logging
import NIOSSL
import PostgresNIO
import SlipwayCore

/// The state several operators share for one app's fleets (`state.postgres`): fleet deployments and their hosts'
/// results, the event log, the audit chain, the lock and the epoch, in PostgreSQL. One connection per controller:
/// the lock is a session advisory lock on it, so it is freed the moment the controller's connection dies (a `kill -9`
/// included), with no TTL to wait out. The tables are the source of truth; `NOTIFY` only wakes followers.
public actor SharedState {
    public nonisolated let app: String
    public nonisolated let url: PostgresURL
    let connection: PostgresConnection
    static let logger = Logger(label: "slipway.shared-state")
    var logger: Logger { Self.logger }

    init(app: String, url: PostgresURL, connection: PostgresConnection) {
        self.app = app
        self.url = url
        self.connection = connection
    }

    /// Connects and creates the tables it needs (idempotent).
    public static func connect(_ url: PostgresURL, app: String) async throws(SlipwayError) -> SharedState {
        var config = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                      database: url.database, tls: .disable)
        do {
            switch url.tls {
            case .disable: break
            case .prefer, .require, .verify:
                var tls = TLSConfiguration.makeClientConfiguration()
                if url.tls != .verify { tls.certificateVerification = .none }
                let context = try NIOSSLContext(configuration: tls)
                config.tls = url.tls == .prefer ? .prefer(context) : .require(context)
            }
        } catch { throw SlipwayError(.internal, "cannot set up TLS for the shared state at \(url.display)", cause: "\(error)") }
        config.options.connectTimeout = .seconds(10)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: config, id: 1, logger: SharedState.logger)
        } catch {
            throw SlipwayError(.unavailable, "cannot reach the shared state at \(url.display): \(Self.describe(error)); check state.postgres.url_secret's URL and that PostgreSQL is up")
        }
        let state = SharedState(app: app, url: url, connection: connection)
        do { try await state.migrate() } catch {
            try? await connection.close()
            throw error
        }
        return state
    }

    public func close() async {
        try? await connection.close()
    }

    /// Whether the connection (and so the lock on it) is gone.
    public var isClosed: Bool { connection.isClosed }

    /// Runs `body` when the connection closes (the lock went with it).
    nonisolated func onClose(_ body: @escaping @Sendable () -> Void) {
        connection.closeFuture.whenComplete { _ in body() }
    }

    static let schema = [
        """
        CREATE TABLE IF NOT EXISTS slipway_fleet_deployments (
          id text PRIMARY KEY, app text NOT NULL, environment text NOT NULL, version text NOT NULL, kind text NOT NULL,
          actor text NOT NULL, holder text NOT NULL, backend_pid integer NOT NULL, hosts text NOT NULL,
          state text NOT NULL, phase text NOT NULL DEFAULT '', epoch bigint NOT NULL DEFAULT 0, message text NOT NULL DEFAULT '',
          started_ms bigint NOT NULL, finished_ms bigint, outcome text)
        """,
        // Numbers for people and for DORA's lists of deployments (`number`), in the order deployments were recorded.
        "ALTER TABLE slipway_fleet_deployments ADD COLUMN IF NOT EXISTS number bigserial",
        "CREATE INDEX IF NOT EXISTS slipway_fleet_deployments_env ON slipway_fleet_deployments (app, environment, started_ms)",
        """
        CREATE TABLE IF NOT EXISTS slipway_fleet_hosts (
          deployment text NOT NULL REFERENCES slipway_fleet_deployments (id), host text NOT NULL, state text NOT NULL,
          current text, message text NOT NULL, PRIMARY KEY (deployment, host))
        """,
        """
        CREATE TABLE IF NOT EXISTS slipway_fleet_epochs (
          app text NOT NULL, environment text NOT NULL, epoch bigint NOT NULL, holder text NOT NULL, since_ms bigint NOT NULL,
          PRIMARY KEY (app, environment))
        """,
        """
        CREATE TABLE IF NOT EXISTS slipway_events (
          id bigserial PRIMARY KEY, at_ms bigint NOT NULL, app text NOT NULL, environment text, type text NOT NULL, payload text NOT NULL)
        """,
        // A fleet environment's certificate, obtained once for all its hosts, with its renewal record; ACME accounts per CA.
        """
        CREATE TABLE IF NOT EXISTS slipway_fleet_certificates (
          app text NOT NULL, environment text NOT NULL, chain_pem text NOT NULL DEFAULT '', key_pem text NOT NULL DEFAULT '',
          record text NOT NULL, updated_ms bigint NOT NULL, PRIMARY KEY (app, environment))
        """,
        "CREATE TABLE IF NOT EXISTS slipway_acme_accounts (directory text PRIMARY KEY, key_pem text NOT NULL, created_ms bigint NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS slipway_audit (
          id bigserial PRIMARY KEY, at_ms bigint NOT NULL, app text NOT NULL, environment text, actor text NOT NULL, action text NOT NULL,
          target text NOT NULL, outcome text NOT NULL, detail text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL)
        """,
    ]

    /// The tables, created under a transaction-scoped advisory lock so two controllers starting at once do not race.
    func migrate() async throws(SlipwayError) {
        try await transaction("prepare the shared state's tables") { c, logger in
            try await c.exec("SELECT pg_advisory_xact_lock(7364510092)", logger: logger)
            for statement in Self.schema { try await c.exec(PostgresQuery(unsafeSQL: statement), logger: logger) }
        }
    }

    /// `body` in one transaction; a failure is a SlipwayError saying what was being done.
    func transaction<T: Sendable>(_ what: String, _ body: (PostgresConnection, Logger) async throws -> sending T) async throws(SlipwayError) -> T {
        do {
            return try await connection.withTransaction(logger: logger) { c in try await body(c, logger) }
        } catch { throw failed(what, error) }
    }

    /// One statement; a failure is a SlipwayError saying what was being done.
    func run(_ what: String, _ query: PostgresQuery) async throws(SlipwayError) -> PostgresRowSequence {
        do { return try await connection.query(query, logger: logger) } catch { throw failed(what, error) }
    }

    /// One statement whose rows (if any) are not wanted, run to its end: its error, a lock wait included, surfaces here.
    func exec(_ what: String, _ query: PostgresQuery) async throws(SlipwayError) {
        do { try await connection.exec(query, logger: logger) } catch { throw failed(what, error) }
    }

    /// What was being done, and PostgreSQL's own reason.
    func failed(_ what: String, _ error: any Error) -> SlipwayError {
        SlipwayError(.unavailable, "cannot \(what) in the shared state at \(url.display): \(Self.describe(error))")
    }

    /// PostgreSQL's own message, without the query (its binds may hold anything) or the URL.
    static func describe(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] { return message }
            return "\(e.code)"
        }
        if let e = error as? PostgresTransactionError {
            return describe(e.closureError ?? e.commitError ?? e.beginError ?? e.rollbackError ?? error)
        }
        return "\(error)"
    }

    /// The SQLSTATE of a server error (55P03 is a lock timeout).
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    static func nowMs(_ date: Date = Date()) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
}

extension PostgresConnection {
    /// Runs `query` to its end. A query's rows, and its error, arrive as they are read: a statement whose result is not
    /// read has not necessarily finished (or failed) when `query` returns.
    func exec(_ query: PostgresQuery, logger: Logger) async throws {
        for try await _ in try await self.query(query, logger: logger) {}
    }
}
