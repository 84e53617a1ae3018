import Foundation
@testable import SlipwayBackup
import SlipwayCore
import Testing

/// The `copy` archive of a PostgreSQL backup read back as it streams: cut into chunks anywhere, every frame's payload
/// comes out whole and in order; damage (not the format, an unknown frame, bytes after the end, a missing end) is named.
@Suite struct PostgresCopyArchiveTests {
    static func archive() -> (bytes: [UInt8], dump: [UInt8], tables: [[UInt8]]) {
        let manifest = Array(#"{"version":1,"tables":[]}"#.utf8)
        let dump = (0..<3000).map { UInt8($0 % 251) }
        let tables: [[UInt8]] = [Array("PGCOPY rows of t0".utf8), [], (0..<70_000).map { UInt8($0 % 7) }]
        var bytes = PostgresCopyArchive.magic + PostgresCopyArchive.header(.manifest, length: manifest.count) + manifest
        bytes += PostgresCopyArchive.header(.dump, length: 1000) + dump[0..<1000]
        bytes += PostgresCopyArchive.header(.dump, length: 2000) + dump[1000...]
        for (i, t) in tables.enumerated() {
            // Table 2 in two frames, 1 in an empty one.
            let cuts = i == 2 ? [0..<40_000, 40_000..<t.count] : [0..<t.count]
            for r in cuts { bytes += PostgresCopyArchive.header(.table, index: UInt32(i), length: r.count) + t[r] }
        }
        bytes += PostgresCopyArchive.header(.end, length: 0)
        return (bytes, dump, tables)
    }

    static func read(_ bytes: [UInt8], chunk: Int) throws(SlipwayError) -> (dump: [UInt8], tables: [UInt32: [UInt8]], kinds: [PostgresCopyArchive.Kind]) {
        var parser = PostgresCopyArchive.Parser()
        var dump: [UInt8] = [], tables: [UInt32: [UInt8]] = [:], kinds: [PostgresCopyArchive.Kind] = []
        var at = 0
        while at < bytes.count {
            let piece = Array(bytes[at..<min(at + chunk, bytes.count)])
            at += chunk
            for p in try parser.feed(piece) {
                if kinds.last != p.kind { kinds.append(p.kind) }
                switch p.kind {
                case .dump: dump += piece[p.range]
                case .table: tables[p.index, default: []] += piece[p.range]
                case .manifest, .end: break
                }
            }
        }
        try parser.finish()
        return (dump, tables, kinds)
    }

    @Test(arguments: [1, 2, 9, 10, 1000, 4096, 1 << 20])
    func everyPayloadComesOutWholeWhereverTheStreamIsCut(chunk: Int) throws {
        let a = Self.archive()
        let r = try Self.read(a.bytes, chunk: chunk)
        #expect(r.dump == a.dump)
        #expect(r.tables[0] == a.tables[0])
        #expect(r.tables[1] ?? [] == [])
        #expect(r.tables[2] == a.tables[2])
        #expect(r.kinds == [.manifest, .dump, .table, .end])
    }

    @Test func damageIsNamed() {
        let a = Self.archive().bytes
        #expect(throws: SlipwayError.self) { try Self.read(Array("PGDMP".utf8) + a, chunk: 64) }  // a plain pg_dump archive
        #expect(throws: SlipwayError.self) { try Self.read(a + [0x54], chunk: 64) }                // bytes after the end
        #expect(throws: SlipwayError.self) { try Self.read(Array(a.dropLast(9)), chunk: 64) }      // no end mark: cut short
        var unknown = a
        unknown[PostgresCopyArchive.magic.count] = 0x5A
        #expect(throws: SlipwayError.self) { try Self.read(unknown, chunk: 64) }
    }

    @Test func tablesAreListedQuotedAndExcludedFromTheDumpExactly() {
        let tables = PostgresCopyArchive.parseTables(["public\u{1f}orders\u{1f}id\u{1f}note", "Odd \"Schema\"\u{1f}a*b\u{1f}Col"])
        #expect(tables.count == 2)
        #expect(tables[0].copyOut == "COPY \"public\".\"orders\" (\"id\", \"note\") TO STDOUT (FORMAT binary)")
        #expect(tables[1].dumpPattern == "\"Odd \"\"Schema\"\"\".\"a*b\"")
        #expect(tables[1].copyIn(from: "/tmp/x/table-1") == "\\copy \"Odd \"\"Schema\"\"\".\"a*b\" (\"Col\") FROM '/tmp/x/table-1' WITH (FORMAT binary)")
    }

    /// An in-place restore drops what the archive holds with pg_restore's own statements (foreign keys before tables),
    /// and nothing that pg_restore's script creates.
    @Test func theDropScriptEndsBeforeTheFirstObjectIsCreated() {
        let clean = """
            --
            -- PostgreSQL database dump
            --

            \\restrict abc123

            SET statement_timeout = 0;
            ALTER TABLE IF EXISTS ONLY public.a_child DROP CONSTRAINT IF EXISTS a_child_p_fkey;
            DROP TABLE IF EXISTS public.z_parent;
            SET default_tablespace = '';

            --
            -- Name: a_child; Type: TABLE; Schema: public; Owner: -
            --

            CREATE TABLE public.a_child (id integer);

            \\unrestrict abc123
            """
        let drops = PostgresCopyArchive.dropScript(fromCleanScript: clean)
        #expect(drops.contains("DROP CONSTRAINT IF EXISTS a_child_p_fkey;\nDROP TABLE IF EXISTS public.z_parent;"))
        #expect(!drops.contains("CREATE TABLE"))
        #expect(drops.hasSuffix("\\unrestrict abc123\n"))
    }
}
