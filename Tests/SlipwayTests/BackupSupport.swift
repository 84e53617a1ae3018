import Foundation
import SlipwayBackup
import SlipwayCore
import SlipwayRuntime

/// The real servers scripts/test.sh starts. By hand without them, their tests are skipped with a
/// message; under the README's test command (SLIPWAY_TEST_REQUIRE_SERVICES=1) they always run.
enum TestServices {
    static let env = ProcessInfo.processInfo.environment
    static var required: Bool { env["SLIPWAY_TEST_REQUIRE_SERVICES"] == "1" }
    static var postgres: String? { env["SLIPWAY_TEST_PG_URL"] }
    static var mysql: String? { env["SLIPWAY_TEST_MYSQL_URL"] }
    static var s3Endpoint: String? { env["SLIPWAY_TEST_S3_ENDPOINT"] }
    static var s3Bucket: String { env["SLIPWAY_TEST_S3_BUCKET"] ?? "slipway-test" }
    static var hasPostgres: Bool { postgres != nil || required }
    static var hasMySQL: Bool { mysql != nil || required }
    static var hasS3: Bool { s3Endpoint != nil || required }
    static let skipNote = "needs the servers scripts/test.sh starts (SLIPWAY_TEST_PG_URL, SLIPWAY_TEST_MYSQL_URL, SLIPWAY_TEST_S3_ENDPOINT)"
}

/// A temp root with a backup service over local stores (and S3 when asked).
struct BackupFixture {
    let root: String
    let service: BackupService

    init(sources: [BackupSourceConfig], secrets: [String: String] = [:], stores extra: [BackupStoreConfig] = [], localStores: Int = 1,
         encryptionKeySecret: String? = nil, root given: String? = nil) throws {
        let root = given ?? FileManager.default.temporaryDirectory.appendingPathComponent("slipway-backup-\(UUID().uuidString.prefix(8))").path
        self.root = root
        try FileManager.default.createDirectory(atPath: root + "/shared", withIntermediateDirectories: true)
        let locals = (0..<localStores).map { BackupStoreConfig.local(path: root + "/store\($0)") }
        let settings = BackupSettings(sources: sources, stores: locals + extra, encryptionKeySecret: encryptionKeySecret)
        service = try BackupService(app: "shop", environment: "production", settings: settings, secrets: secrets, root: root)
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: root) }

    /// The archive of `source` in local store `n`.
    func storedFile(_ m: BackupManifest, _ source: String, store n: Int = 0) -> String {
        let entry = m.entries.first { $0.source == source }!
        return "\(root)/store\(n)/\(m.app)/\(m.environment)/\(m.id)/\(entry.file)"
    }

    /// The manifest at the head of a PostgreSQL `copy` archive (zstd, not encrypted): which tables went as binary COPY
    /// ("" when the archive does not start like one).
    func copyArchiveHead(_ m: BackupManifest, _ source: String) async throws -> String {
        let plain = root + "/head-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: plain) }
        try await ProcessPipeline([.init(["zstd", "-q", "-d", "-c"])], input: storedFile(m, source), output: plain, logFile: root + "/head.log").run()
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: plain))
        defer { try? handle.close() }
        // "SLIPWAY-PGCOPY\n", then the manifest's frame: kind, index (4 bytes), length (4 bytes, big-endian), JSON.
        let bytes = [UInt8](try handle.read(upToCount: 1 << 16) ?? Data())
        guard bytes.count > 24, bytes[..<15].elementsEqual("SLIPWAY-PGCOPY\n".utf8), bytes[15] == UInt8(ascii: "M") else { return "" }
        let length = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
        return String(decoding: bytes[24..<min(bytes.count, 24 + length)], as: UTF8.self)
    }

    /// Flips one byte in the middle of `path`.
    static func corrupt(_ path: String) throws {
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? h.close() }
        let size = try h.seekToEnd()
        try h.seek(toOffset: size / 2)
        let byte = try h.read(upToCount: 1)!.first!
        try h.seek(toOffset: size / 2)
        try h.write(contentsOf: Data([byte ^ 0xff]))
    }

    /// psql/mariadb output for `sql` (rows tab- or |-separated), for row-for-row comparisons.
    static func query(_ argv: [String], env: [String: String]) async throws -> String {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("q-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        return try await ProcessPipeline([.init(argv, environment: env)], logFile: log).capture()
    }

    static func psql(_ url: String, _ sql: String) async throws -> String {
        let u = try DatabaseURL(parsing: url, secret: "test")
        return try await query(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "--dbname=\(u.redacted)", "-c", sql], env: u.postgresEnvironment())
    }

    static func mysql(_ url: String, _ sql: String) async throws -> String {
        let u = try DatabaseURL(parsing: url, secret: "test")
        return try await query(["mariadb"] + u.mysqlArguments + ["-N", "-B", "-e", sql, u.database], env: u.mysqlEnvironment())
    }
}
