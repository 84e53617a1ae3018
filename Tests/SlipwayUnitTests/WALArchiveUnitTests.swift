import Foundation
@testable import SlipwayBackup
@testable import SlipwayEngine
import SlipwayCore
import Testing

/// PostgreSQL's continuous archive without a server: which WAL a restore to a point fetches (from the base's first
/// segment, up to the first one finished after the point, the one being written when none was), a gap refused with
/// how far the archive is whole, segment numbering across a log boundary, what retention keeps, the slot's name.
@Suite struct WALArchiveUnitTests {
    static let prefix = "continuous/shop/production/main/42/wal/"
    static func base(walStart: String, finished: Double = 1000) -> ContinuousBase {
        ContinuousBase(id: "b", startedAt: Date(timeIntervalSince1970: finished - 5), finishedAt: Date(timeIntervalSince1970: finished), system: "42",
                       walStart: walStart, serverVersion: 15, walSegmentBytes: 16 << 20, object: "x")
    }
    /// Segments 0x10… finished at 1000 s, 1010 s, …; with the one after them being written.
    static func keys(_ finished: [(String, Double)], partial: String?) -> [String] {
        finished.map { "\(prefix)\($0.0).\(Int64($0.1 * 1000)).zst" } + (partial.map { ["\(prefix)\($0).partial.zst"] } ?? [])
    }

    @Test func aPointFetchesTheSegmentsUpToTheFirstFinishedAfterIt() throws {
        let segs = [("000000010000000000000010", 1000.0), ("000000010000000000000011", 1010), ("000000010000000000000012", 1020)]
        let keys = Self.keys([("00000001000000000000000F", 990)] + segs, partial: "000000010000000000000013")
        let b = Self.base(walStart: "000000010000000000000010")
        // Inside 0x11: 0x10 and 0x11, nothing later; the segment before the base is never fetched.
        let at = try PostgresPointRestore.plan(keys: keys, prefix: Self.prefix, base: b, time: Date(timeIntervalSince1970: 1005))
        #expect(at.map(\.0) == ["000000010000000000000010", "000000010000000000000011"])
        // After every finished one: all of them and the one being written, under its segment's own name.
        let latest = try PostgresPointRestore.plan(keys: keys, prefix: Self.prefix, base: b, time: nil)
        #expect(latest.map(\.0) == ["000000010000000000000010", "000000010000000000000011", "000000010000000000000012", "000000010000000000000013"])
        #expect(latest.last?.1.hasSuffix(".partial.zst") == true)
    }

    @Test func aMissingSegmentIsRefusedNamingIt() {
        let keys = Self.keys([("000000010000000000000010", 1000), ("000000010000000000000012", 1020)], partial: nil)
        do {
            _ = try PostgresPointRestore.plan(keys: keys, prefix: Self.prefix, base: Self.base(walStart: "000000010000000000000010"), time: nil)
            Issue.record("a gap was accepted")
        } catch {
            #expect(error.message.contains("000000010000000000000011 is missing"), "\(error.message)")
        }
    }

    @Test func segmentsStepAcrossALogBoundaryByTheSegmentSize() {
        #expect(PostgresPointRestore.next("0000000100000000000000FE", segmentBytes: 16 << 20) == "0000000100000000000000FF")
        #expect(PostgresPointRestore.next("0000000100000000000000FF", segmentBytes: 16 << 20) == "000000010000000100000000")
        #expect(PostgresPointRestore.next("00000002000000000000003F", segmentBytes: 64 << 20) == "000000020000000100000000")
    }

    @Test func retentionKeepsTheNewestBaseBeforeTheWindowAndTheWALItNeeds() {
        func b(_ id: String, _ t: Double, _ wal: String) -> ContinuousBase {
            var x = Self.base(walStart: wal, finished: t)
            x.id = id
            return x
        }
        let bases = [b("a", 100, "000000010000000000000001"), b("b", 200, "000000010000000000000005"), b("c", 300, "000000010000000000000009")]
        let (doomed, keepFrom) = WALArchiver.expired(bases, before: Date(timeIntervalSince1970: 250))
        #expect(doomed.map(\.id) == ["a"], "b covers the start of the window")
        #expect(keepFrom == "000000010000000000000005")
        #expect(WALArchiver.expired(bases, before: Date(timeIntervalSince1970: 50)).doomed.isEmpty)
    }

    @Test func theSlotIsNamedForTheSourceAsPostgresAllows() {
        #expect(WALArchiver.slotName(app: "shop", environment: "production", source: "main-db") == "slipway_shop_production_main_db")
        #expect(WALArchiver.slotName(app: String(repeating: "a", count: 80), environment: "p", source: "s").count == 63)
        #expect(WALArchiver.bytes("16MB") == 16 << 20 && WALArchiver.bytes("1GB") == 1 << 30)
    }
}

/// `continuous-archive-lagging`: fires when a source waited (or failed) past `max_lag` × 10, naming it and why.
@Suite struct ContinuousLagAlertTests {
    @Test func theAlertFiresPastTenTimesMaxLagNamingTheSourceAndItsError() {
        func status(_ source: String, lag: Double, error: String? = nil) -> ContinuousStatus {
            ContinuousStatus(environment: "production", source: source, error: error, lagSeconds: lag)
        }
        let calm = ContinuousBoard.judge([status("main", lag: 9.9), status("files", lag: 0)], maxLag: .seconds(1))
        #expect(calm.0 == false && calm.1.contains("within 10.0 s"))
        let late = ContinuousBoard.judge([status("main", lag: 42, error: "pg_receivewal exited with status 1"), status("db", lag: 0.2)], maxLag: .seconds(1))
        #expect(late.0 == true && late.2 == "42.0 s")
        #expect(late.1.contains("main is 42.0 s behind: pg_receivewal exited with status 1") && !late.1.contains("db is"), "\(late.1)")
        #expect(ContinuousBoard.judge([], maxLag: .seconds(1)).0 == false)
        #expect(ContinuousBoard.judge([status("main", lag: 42)], maxLag: nil).0 == false, "no continuous archiving configured")
    }
}

/// The swap restore carries a database's grants over: each `aclitem` as GRANT statements.
@Suite struct SwapRestoreUnitTests {
    @Test func aclItemsBecomeGrants() {
        #expect(PostgresArchiver.grantStatements("=Tc/postgres", database: "shop_new") == ["GRANT TEMPORARY, CONNECT ON DATABASE \"shop_new\" TO PUBLIC"])
        #expect(PostgresArchiver.grantStatements("app=CTc/postgres", database: "shop") == ["GRANT CREATE, TEMPORARY, CONNECT ON DATABASE \"shop\" TO \"app\""])
        #expect(PostgresArchiver.grantStatements("\"odd name\"=c/postgres", database: "shop") == ["GRANT CONNECT ON DATABASE \"shop\" TO \"odd name\""])
        #expect(PostgresArchiver.grantStatements("nonsense", database: "shop").isEmpty)
    }
}

/// Of a partial segment only its written pages are shipped: found by binary search for the first page still zero.
@Suite struct PartialSegmentUnitTests {
    @Test func theWrittenPartEndsAtTheFirstZeroPage() throws {
        let path = NSTemporaryDirectory() + "partial-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        for pages in [0, 1, 37, 2047, 2048] {
            var bytes = [UInt8](repeating: 0, count: 2048 * 8192)
            for p in 0..<pages { bytes[p * 8192] = 0x10; bytes[p * 8192 + 1] = 0xD1 }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(WALArchiver.writtenLength(path) == pages * 8192, "\(pages) page(s) written")
        }
    }
}
