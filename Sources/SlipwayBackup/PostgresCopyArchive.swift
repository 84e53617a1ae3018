import Foundation
import SlipwayCore

/// The layout of a PostgreSQL backup since format `copy`: the tables' rows in PostgreSQL's binary COPY format (no
/// text to parse on the way back in: a restore takes about two thirds of `pg_restore`'s time) beside a `pg_dump -Fc`
/// archive of everything else (schema, sequences, large objects, the rows of tables binary COPY cannot carry), all
/// taken in one snapshot. One stream, so it compresses, seals, checksums and streams back like every archive:
///
///     "SLIPWAY-PGCOPY\n"  then frames: kind (1 byte) · index (u32, big-endian) · length (u32) · payload
///     M  the manifest (JSON: the tables in stream order and their columns)
///     D  the pg_dump archive, in chunks
///     T  rows of table `index` (binary COPY), in chunks, one table after the other
///     E  the end (a stream without it was cut short)
enum PostgresCopyArchive {
    static let magic = Array("SLIPWAY-PGCOPY\n".utf8)
    static let headerSize = 9
    /// The largest payload a writer puts in one frame.
    static let chunk = 1 << 20

    enum Kind: UInt8, Sendable {
        case manifest = 0x4D, dump = 0x44, table = 0x54, end = 0x45
    }

    /// A table whose rows travel as binary COPY: its name and the columns COPY names (stored ones, in order).
    struct Table: Codable, Sendable, Equatable {
        var schema: String
        var name: String
        var columns: [String]

        /// `"schema"."table"` for SQL and for psql's `\copy`.
        var qualified: String { "\(PostgresArchiver.quoted(schema)).\(PostgresArchiver.quoted(name))" }
        var columnList: String { columns.map(PostgresArchiver.quoted).joined(separator: ", ") }
        /// The pattern `pg_dump --exclude-table-data` matches this table by, exactly (quotes make every character literal).
        var dumpPattern: String { qualified }
        var copyOut: String { "COPY \(qualified) (\(columnList)) TO STDOUT (FORMAT binary)" }
        /// The line of the restore's psql script loading this table from `path`.
        func copyIn(from path: String) -> String { "\\copy \(qualified) (\(columnList)) FROM '\(path)' WITH (FORMAT binary)" }
    }

    struct Manifest: Codable, Sendable, Equatable {
        var version = 1
        var tables: [Table]
    }

    /// Tables smaller than this stay with pg_dump: each binary table costs the backup a `psql` session (some
    /// milliseconds), more than parsing a small table's text costs its restore.
    static let minimumTableBytes = 1 << 20

    /// The tables whose rows a backup takes as binary COPY: ordinary tables of the user's schemas of at least
    /// `minimumTableBytes`, not an extension's, every stored column of a type with binary send and receive functions,
    /// and names a psql script line can hold. One line per table: schema, name, then the columns, separated by U+001F.
    /// The rest stays with pg_dump.
    static let tablesQuery = """
        SELECT n.nspname || chr(31) || c.relname || chr(31) || string_agg(a.attname, chr(31) ORDER BY a.attnum)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
          JOIN pg_type t ON t.oid = a.atttypid
        WHERE c.relkind = 'r' AND c.relpersistence IN ('p', 'u') AND pg_table_size(c.oid) >= \(minimumTableBytes)
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        GROUP BY n.nspname, c.relname
        HAVING bool_and(t.typsend::oid <> 0 AND t.typreceive::oid <> 0)
           AND bool_and(a.attname !~ '[\\n\\r\\x1f]') AND n.nspname !~ '[\\n\\r\\x1f]' AND c.relname !~ '[\\n\\r\\x1f]'
        ORDER BY n.nspname, c.relname;
        """

    static func parseTables(_ lines: [String]) -> [Table] {
        lines.compactMap { line in
            let f = line.split(separator: "\u{1f}", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 3 else { return nil }
            return Table(schema: f[0], name: f[1], columns: Array(f[2...]))
        }
    }

    static func header(_ kind: Kind, index: UInt32 = 0, length: Int) -> [UInt8] {
        let n = UInt32(length)
        return [kind.rawValue,
                UInt8(index >> 24), UInt8(index >> 16 & 0xff), UInt8(index >> 8 & 0xff), UInt8(index & 0xff),
                UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
    }

    /// The statements of `pg_restore --clean --if-exists`'s script that drop what the dump holds (foreign keys first,
    /// then tables, views, …), cut before its first object is created: an in-place restore runs them, then the
    /// pre-data, the tables' rows, then the rest. A `\restrict` the script opened is closed again.
    static func dropScript(fromCleanScript text: String) -> String {
        var out: [Substring] = []
        var key: Substring?
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in lines.enumerated() {
            if line == "--", i + 1 < lines.count,
               lines[i + 1].hasPrefix("-- Name: ") || lines[i + 1].hasPrefix("-- Data for Name: ") || lines[i + 1].hasPrefix("-- TOC entry ") {
                break
            }
            if line.hasPrefix("\\unrestrict ") { break }
            if line.hasPrefix("\\restrict ") { key = line.dropFirst("\\restrict ".count) }
            out.append(line)
        }
        var script = out.joined(separator: "\n") + "\n"
        if let key { script += "\\unrestrict \(key)\n" }
        return script
    }
}
