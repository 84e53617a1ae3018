import Crypto
import Foundation
import PostgresNIO
import SlipwayACME
import SlipwayCore

/// A fleet environment's certificate as the shared state keeps it: the chain and key (empty until one was issued) and
/// the renewal record every operator's controller reads before it asks the CA.
public struct SharedCertificate: Sendable, Equatable {
    public var environment: String
    public var chainPEM = ""
    public var keyPEM = ""
    public var record = CertificateRecord()

    public init(environment: String) { self.environment = environment }
}

extension SharedState {
    /// `environment`'s certificate and renewal record (nil: never asked for).
    public func certificate(environment: String) async throws(SlipwayError) -> SharedCertificate? {
        let what = "read the certificate of \(environment)"
        let rows = try await run(what, "SELECT chain_pem, key_pem, record FROM slipway_fleet_certificates WHERE app = \(app) AND environment = \(environment)")
        do {
            for try await (chain, key, record) in rows.decode((String, String, String).self) {
                var c = SharedCertificate(environment: environment)
                c.chainPEM = chain
                c.keyPEM = key
                c.record = (try? SlipwayJSON.decoder().decode(CertificateRecord.self, from: Data(record.utf8))) ?? CertificateRecord()
                return c
            }
        } catch { throw failed(what, error) }
        return nil
    }

    /// Writes the record, and the chain and key when `withCertificate` (an attempt's start or failure keeps what serves).
    public func save(_ c: SharedCertificate, withCertificate: Bool) async throws(SlipwayError) {
        let record = String(decoding: try SlipwayJSON.encode(c.record, what: "the renewal record of \(c.environment)"), as: UTF8.self)
        let (chain, key) = withCertificate ? (c.chainPEM, c.keyPEM) : ("", "")
        try await exec("record the certificate of \(c.environment)", """
            INSERT INTO slipway_fleet_certificates (app, environment, chain_pem, key_pem, record, updated_ms)
            VALUES (\(app), \(c.environment), \(chain), \(key), \(record), \(Self.nowMs()))
            ON CONFLICT (app, environment) DO UPDATE SET record = EXCLUDED.record, updated_ms = EXCLUDED.updated_ms,
              chain_pem = CASE WHEN \(withCertificate) THEN EXCLUDED.chain_pem ELSE slipway_fleet_certificates.chain_pem END,
              key_pem = CASE WHEN \(withCertificate) THEN EXCLUDED.key_pem ELSE slipway_fleet_certificates.key_pem END
            """)
    }

    /// Whether this controller may ask the CA for `environment`'s certificate now (a session advisory lock of its own,
    /// apart from the deploy lock): false while another controller does. Given back with `certificateUnlock`.
    public func certificateLock(environment: String) async throws(SlipwayError) -> Bool {
        let key = "slipway-certificate:\(app)/\(environment)", what = "take the certificate lock of \(environment)"
        let rows = try await run(what, "SELECT pg_try_advisory_lock(hashtextextended(\(key), 0))")
        var got = false
        do { for try await b in rows.decode(Bool.self) { got = b } } catch { throw failed(what, error) }
        return got
    }

    public func certificateUnlock(environment: String) async {
        let key = "slipway-certificate:\(app)/\(environment)"
        try? await connection.exec("SELECT pg_advisory_unlock(hashtextextended(\(key), 0))", logger: logger)
    }

    /// The ACME account key for the CA at `directory`, made by the first controller that needs it (one account per CA
    /// for every app and operator sharing this database).
    public func accountKey(directory: String) async throws(SlipwayError) -> AccountKey {
        let made = AccountKey()
        try await exec("keep the ACME account key", """
            INSERT INTO slipway_acme_accounts (directory, key_pem, created_ms) VALUES (\(directory), \(made.key.pemRepresentation), \(Self.nowMs()))
            ON CONFLICT (directory) DO NOTHING
            """)
        let what = "read the ACME account key"
        let rows = try await run(what, "SELECT key_pem FROM slipway_acme_accounts WHERE directory = \(directory)")
        do {
            for try await pem in rows.decode(String.self) {
                return AccountKey(try P256.Signing.PrivateKey(pemRepresentation: pem))
            }
        } catch { throw failed(what, error) }
        throw SlipwayError(.internal, "the ACME account key for \(directory) vanished from the shared state at \(url.display)")
    }
}
