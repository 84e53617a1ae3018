import Foundation
import SlipwayCore
import SlipwayRuntime

/// PostgreSQL: the tables' rows as binary COPY beside a `pg_dump -Fc` of the rest (format `copy`, see
/// `PostgresCopyArchive`; zstd outside: faster than pg_dump's own zlib), all in a snapshot exported by a `psql` session
/// that counts rows in the very same snapshot. Older backups (a plain `pg_dump -Fc`) restore as before.
/// The password reaches pg_dump, pg_restore and psql through PGPASSWORD only.
enum PostgresArchiver {
    /// One row per table: `schema.table|count`, counted with dynamic SQL in a single statement.
    static let countQuery = """
        SELECT n.nspname || '.' || c.relname || '|' || (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1;
        """

    static func backup(name: String, url: DatabaseURL, context: ArchiveContext) async throws(SlipwayError) -> BackupManifest.Entry {
        let pgDump = try Tools.require(["pg_dump"], package: "postgresql-client")
        let started = Date()
        let (session, snapshot, tables) = try await openCopySnapshot(name: name, url: url, context: context)
        let file = "\(context.staging)/\(name).pgcopy\(context.codec.fileExtension)"
        // Count rows in the session while the archive is written: both read the same snapshot.
        async let counted: [String: Int64]? = counts(session)
        do {
            let sink = try StreamEnd.writing(file, through: context.codec.compressStage, logFile: context.logFile)
            try await writeCopyArchive(to: sink, tables: tables, snapshot: snapshot, url: url, context: context)
        } catch {
            session.kill()
            _ = await counted
            _ = await session.wait()
            throw SlipwayError(.failed, "source \(name): the backup of \(url.redacted) failed", cause: error.cause ?? error.message)
        }
        let rowCounts = await counted
        await closeSnapshot(session)
        var entry = BackupManifest.Entry(
            source: name, kind: "postgres", file: (file as NSString).lastPathComponent, size: Checksum.size(file),
            sha256: try await SourceArchiver.checksum(file, context), compression: context.codec.rawValue, encrypted: false,
            tool: await Tools.version(pgDump, log: context.logFile), startedAt: started, finishedAt: Date(),
            rowCounts: rowCounts, rowCountsExact: rowCounts != nil)
        entry.format = BackupManifest.Entry.postgresCopyFormat
        return entry
    }

    /// A `psql` session on `url` holding a read-only snapshot (exported: the copy's other sessions import it), and the
    /// tables whose rows go as binary COPY, locked in it.
    static func openCopySnapshot(name: String, url: DatabaseURL, context: ArchiveContext) async throws(SlipwayError)
        -> (session: Coprocess, snapshot: String, tables: [PostgresCopyArchive.Table]) {
        let psql = try Tools.require(["psql"], package: "postgresql-client")
        let session = try Coprocess(argv: [psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "--dbname=\(url.redacted)"],
                                    environment: url.postgresEnvironment(), logFile: context.logFile)
        do throws(SlipwayError) {
            try session.send("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\nSELECT pg_export_snapshot();\nSELECT 'slipway-end';\n")
            guard let lines = await session.readUntil("slipway-end"), let snapshot = lines.last(where: { !$0.isEmpty }) else {
                throw SlipwayError(.failed, "source \(name): cannot open a snapshot on \(url.redacted)", cause: ProcessPipeline.tail(context.logFile))
            }
            let tables = try await copyTables(session, name: name, url: url, logFile: context.logFile)
            return (session, snapshot, tables)
        } catch {
            session.kill()
            _ = await session.wait()
            throw error
        }
    }

    /// Ends the snapshot's transaction (read only: nothing to keep) and the session; a session that cannot be told
    /// (its psql gone or stuck) is stopped rather than waited for.
    static func closeSnapshot(_ session: Coprocess) async {
        do { try session.send("COMMIT;\n\\q\n") } catch { session.kill() }
        _ = await session.wait()
    }

    static func counts(_ session: Coprocess) async -> [String: Int64]? {
        do { try session.send(countQuery + "\nSELECT 'slipway-end';\n") } catch { return nil }
        guard let lines = await session.readUntil("slipway-end") else { return nil }
        return parseCounts(lines)
    }

    static func parseCounts(_ lines: [String]) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for line in lines {
            guard let bar = line.lastIndex(of: "|"), let n = Int64(line[line.index(after: bar)...]) else { continue }
            out[String(line[..<bar])] = n
        }
        return out
    }

    /// Restores into `url`'s database, replacing the objects the dump holds, in one transaction.
    /// `newDatabase`: `url`'s database is new and empty (nothing to drop first).
    static func restore(file: String, codec: Codec, format: String?, to url: DatabaseURL, newDatabase: Bool = false,
                        context: ArchiveContext) async throws(SlipwayError) {
        do {
            if format == BackupManifest.Entry.postgresCopyFormat {
                try await restoreCopy(file: file, codec: codec, into: url, newDatabase: newDatabase, context: context)
            } else {
                try await ProcessPipeline(codec.decompressStages + [try replacing(url)], input: file, logFile: context.logFile).run()
            }
        } catch {
            throw SlipwayError(.failed, "the restore into \(url.redacted) failed; the database is unchanged (one transaction)", cause: error.cause ?? error.message)
        }
    }

    /// `pg_restore` reading a dump on stdin and replacing the objects it holds in `url`'s database, in one transaction.
    static func replacing(_ url: DatabaseURL) throws(SlipwayError) -> ProcessPipeline.Stage {
        let pgRestore = try Tools.require(["pg_restore"], package: "postgresql-client")
        return .init([pgRestore, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error", "--dbname=\(url.redacted)"],
                     environment: url.postgresEnvironment())
    }

    static func restoreTest(_ entry: BackupManifest.Entry, file: String, codec: Codec, server: DatabaseURL,
                            context: ArchiveContext) async throws(SlipwayError) -> RestoreCheck {
        let scratch = server.with(database: "slipway_verify_" + UUID().uuidString.prefix(8).lowercased())
        let admin = server.with(database: "postgres")
        try await psql(admin, "CREATE DATABASE \(scratch.database)", context: context)
        do {
            try await restore(file: file, codec: codec, format: entry.format, to: scratch, newDatabase: true, context: context)
            let counts = parseCounts(try await psqlLines(scratch, countQuery, context: context))
            try? await psql(admin, "DROP DATABASE IF EXISTS \(scratch.database)", context: context)
            let (ok, detail) = SourceArchiver.compare(entry.rowCounts, counts, exact: entry.rowCountsExact ?? false)
            return RestoreCheck(source: entry.source, ok: ok, detail: "restored into \(scratch.database); " + detail, rowCounts: counts)
        } catch {
            try? await psql(admin, "DROP DATABASE IF EXISTS \(scratch.database)", context: context)
            return RestoreCheck(source: entry.source, ok: false, detail: error.message + (error.cause.map { ": \($0)" } ?? ""))
        }
    }

    static func psql(_ url: DatabaseURL, _ sql: String, context: ArchiveContext) async throws(SlipwayError) {
        _ = try await psqlLines(url, sql, context: context)
    }

    static func psqlLines(_ url: DatabaseURL, _ sql: String, context: ArchiveContext) async throws(SlipwayError) -> [String] {
        let psql = try Tools.require(["psql"], package: "postgresql-client")
        let text = try await ProcessPipeline([.init([psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "--dbname=\(url.redacted)", "-c", sql],
                                                    environment: url.postgresEnvironment())], logFile: context.logFile).capture()
        return text.split(separator: "\n").map(String.init)
    }
}
