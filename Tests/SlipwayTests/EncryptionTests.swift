import Foundation
import GRDB
import SlipwayBackup
import SlipwayCore
import Testing

/// Encryption at rest: archives are AES-256-GCM sealed in chunks; a changed byte, a cut-off file or a
/// wrong key never decrypts, and an encrypted backup restores row for row with the right key.
@Suite struct EncryptionTests {
    static let key = Data((0..<32).map { UInt8($0 * 7 % 256) }).base64EncodedString()
    static let otherKey = String(repeating: "ab", count: 32)

    func temp(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("slipway-enc-\(UUID().uuidString.prefix(8))-\(name)").path
    }

    @Test func chunkedSealingDetectsTamperingTruncationAndWrongKeys() throws {
        let plain = temp("plain"), sealed = temp("sealed"), out = temp("out")
        defer { for p in [plain, sealed, out] { try? FileManager.default.removeItem(atPath: p) } }
        // 2.5 chunks of random bytes: three chunks, the last one short.
        var words = (0..<(5 << 16)).map { _ in UInt64.random(in: 0...UInt64.max) }
        let data = Data(bytes: &words, count: words.count * 8)
        try data.write(to: URL(fileURLWithPath: plain))
        let key = try BackupCipher.key(Self.key, secret: "K")
        let sum = try BackupCipher.encrypt(plain, to: sealed, key: key)
        #expect(sum == (try Checksum.sha256(file: sealed)))
        let stored = try Data(contentsOf: URL(fileURLWithPath: sealed))
        #expect(stored.prefix(8) == Data("SLWYENC1".utf8))
        #expect(stored.count == data.count + 44 + 3 * 16)
        try BackupCipher.decrypt(sealed, to: out, key: key)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == data)

        #expect(throws: SlipwayError.self, "wrong key") {
            try BackupCipher.decrypt(sealed, to: out, key: try BackupCipher.key(Self.otherKey, secret: "K"))
        }
        var flipped = stored
        flipped[flipped.count / 2] ^= 1
        try flipped.write(to: URL(fileURLWithPath: sealed))
        #expect(throws: SlipwayError.self, "one changed byte") { try BackupCipher.decrypt(sealed, to: out, key: key) }
        // Cut at a chunk boundary: every remaining chunk is intact, but none is marked final.
        try stored.prefix(44 + 2 * ((1 << 20) + 16)).write(to: URL(fileURLWithPath: sealed))
        #expect(throws: SlipwayError.self, "truncated") { try BackupCipher.decrypt(sealed, to: out, key: key) }
        // An empty file seals to one final chunk and back.
        try Data().write(to: URL(fileURLWithPath: plain))
        _ = try BackupCipher.encrypt(plain, to: sealed, key: key)
        try BackupCipher.decrypt(sealed, to: out, key: key)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)).isEmpty)
    }

    @Test func keysMustBe256BitsAndAreNeverEchoed() {
        for bad in ["hunter2", String(repeating: "z", count: 64), Data(count: 16).base64EncodedString()] {
            do {
                _ = try BackupCipher.key(bad, secret: "BACKUP_KEY")
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.message.contains("BACKUP_KEY") && error.message.contains("openssl rand -base64 32"))
                #expect(!error.message.contains(bad))
            }
        }
    }

    @Test func encryptedSQLiteBackupRestoresWithTheRightKeyOnly() async throws {
        let root = temp("root")
        let dbPath = root + "/shared/app.db"
        try FileManager.default.createDirectory(atPath: root + "/shared", withIntermediateDirectories: true)
        let db = try DatabaseQueue(path: dbPath)
        // Random blobs do not compress, so the SQLite file is stored as is: only encryption hides it.
        try await db.write { try $0.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) INSERT INTO t (b) SELECT randomblob(2000) FROM n") }
        let sources = [BackupSourceConfig(name: "db", kind: .sqlite(path: dbPath))]
        let f = try BackupFixture(sources: sources, secrets: ["BACKUP_KEY": Self.key], encryptionKeySecret: "BACKUP_KEY", root: root)
        defer { f.cleanUp() }
        let m = try await f.service.create(reason: "manual", release: nil).manifest
        let entry = try #require(m.entries.first)
        #expect(entry.encrypted && entry.file.hasSuffix(".enc"))
        #expect(m.encryption?.keySecret == "BACKUP_KEY" && m.encryption?.algorithm == "AES-256-GCM")
        let stored = try Data(contentsOf: URL(fileURLWithPath: f.storedFile(m, "db")))
        #expect(stored.range(of: Data("SQLite format 3".utf8)) == nil)
        let verified = try await f.service.verify(m, locations: nil, restoreTest: true)
        #expect(verified.ok, "\(verified)")
        #expect(verified.restores.first?.rowCounts == ["t": 300])

        try await db.write { try $0.execute(sql: "DELETE FROM t WHERE id > 10") }
        _ = try await f.service.restore(m, locations: nil, only: nil, to: .inPlace)
        #expect(try await db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM t") } == 300)

        // The same stores with another key: the restore refuses, naming the key ids, and changes nothing.
        let wrong = try BackupFixture(sources: sources, secrets: ["BACKUP_KEY": Self.otherKey], encryptionKeySecret: "BACKUP_KEY", root: root)
        try await db.write { try $0.execute(sql: "DELETE FROM t WHERE id > 10") }
        do {
            _ = try await wrong.service.restore(m, locations: nil, only: nil, to: .inPlace)
            Issue.record("restored with the wrong key")
        } catch {
            #expect(error.message.contains("another key"), "\(error.message)")
        }
        #expect(try await db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM t") } == 10)
    }
}
