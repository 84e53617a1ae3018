import Foundation
import SlipwayCore
import SlipwayRuntime

/// The faster restore of a PostgreSQL dump: into a new database on the same server (no old rows to drop first; with
/// `pg_restore --jobs` for a dump of several tables, loaded and indexed side by side, which one transaction forbids),
/// while the archive's checksum is still being checked; then swapped in by rename: connections to the old database are refused and ended, and both renames commit
/// in one transaction, so the app's next connection sees the old data or the new, never a mix. The old database is
/// dropped after, in the background. Its owner, encoding, locale, settings and grants carry over. Used when the connecting role may do
/// all of it (superuser, or the database's owner with CREATEDB); otherwise the restore runs in one transaction in place.
extension PostgresArchiver {
    /// Whether the swap is possible for `url`'s database, and what the new one copies: nil when not.
    struct Database {
        var owner: String
        var encoding: String
        var collate: String
        var ctype: String
        var acl: [String]
        var settings: [String]
    }

    static func swappable(_ url: DatabaseURL, context: ArchiveContext) async -> Database? {
        let sql = """
            SELECT pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, coalesce(array_to_string(d.datacl, ' '), ''),
                   coalesce((SELECT array_to_string(s.setconfig, E'\\x1f') FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole = 0), ''),
                   (SELECT r.rolsuper OR (r.rolcreatedb AND pg_has_role(r.oid, d.datdba, 'MEMBER')) FROM pg_roles r WHERE r.rolname = current_user)
            FROM pg_database d WHERE d.datname = current_database()
            """
        guard let line = try? await psqlLines(url, sql, context: context).first else { return nil }
        let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard f.count == 7, f[6] == "t" else { return nil }
        return Database(owner: f[0], encoding: f[1], collate: f[2], ctype: f[3], acl: f[4].split(separator: " ").map(String.init),
                        settings: f[5].split(separator: "\u{1f}").map(String.init))
    }

    /// Restores `file` (compressed with `codec`) into a new database and swaps it in for `url`'s once `verified` says
    /// the archive is whole. Nothing of the live database changes before the swap; a failure drops the new one.
    static func restoreBySwap(file: String, codec: Codec, format: String?, jobs: Bool, to url: DatabaseURL, database d: Database,
                              context: ArchiveContext, verified: PendingChecksum) async throws(SlipwayError) {
        if format == BackupManifest.Entry.postgresCopyFormat {
            return try await swapIn(url, database: d, context: context) { (fresh: DatabaseURL) async throws(SlipwayError) in
                do throws(SlipwayError) { try await restoreCopy(file: file, codec: codec, into: fresh, newDatabase: true, context: context) } catch {
                    throw SlipwayError(.failed, "the restore into a new database failed; \(url.database) is unchanged", cause: error.cause ?? error.message)
                }
                try await verified.wait()
            }
        }
        // An older backup (a plain pg_dump): --jobs needs a file it can seek in (the dump decompressed beside the
        // archive); a dump of a few tables streams straight from the archive.
        var plain = file
        if jobs, let stage = codec.decompressStage {
            plain = "\(context.scratch)/\(SourceArchiver.scratchName("pg-plain"))"
            try await ProcessPipeline([stage], input: file, output: plain, logFile: context.logFile).run()
        }
        defer { if plain != file { try? FileManager.default.removeItem(atPath: plain) } }
        let source = plain
        try await swapIn(url, database: d, context: context) { (fresh: DatabaseURL) async throws(SlipwayError) in
            do throws(SlipwayError) {
                if jobs || codec == .none {
                    try await restoreJobs(source, into: fresh, context: context, jobs: jobs ? nil : 1)
                } else {
                    try await restoreStream(source, codec: codec, into: fresh, context: context)
                }
            } catch {
                throw SlipwayError(.failed, "pg_restore into a new database failed; \(url.database) is unchanged", cause: error.cause ?? error.message)
            }
            try await verified.wait()
        }
    }

    /// Creates a new database like `url`'s, has `load` fill it (its errors say what failed), then swaps it in for
    /// `url`'s, its settings and grants carried over. Nothing of the live database changes before the swap; a failure
    /// drops the new one. Used by a backup's restore and by a point restore's copy from the scratch server.
    static func swapIn(_ url: DatabaseURL, database d: Database, context: ArchiveContext,
                       load: (DatabaseURL) async throws(SlipwayError) -> Void) async throws(SlipwayError) {
        let id = String(UUID().uuidString.prefix(8)).lowercased()
        let fresh = url.with(database: String(url.database.prefix(40)) + "_slipway_new_" + id)
        let old = String(url.database.prefix(40)) + "_slipway_old_" + id
        let admin = url.with(database: "postgres")
        // A new or old database a killed restore left behind (restores of one environment run one at a time, under its lease).
        let stem = String(url.database.prefix(40)).replacingOccurrences(of: "'", with: "''").replacingOccurrences(of: "_", with: "\\_")
        for leftover in (try? await psqlLines(admin, "SELECT datname FROM pg_database WHERE datname LIKE '\(stem)\\_slipway\\_new\\_%' OR datname LIKE '\(stem)\\_slipway\\_old\\_%'", context: context)) ?? [] {
            try? await psql(admin, "DROP DATABASE IF EXISTS \(quoted(leftover)) WITH (FORCE)", context: context)
        }
        try await psql(admin, "CREATE DATABASE \(quoted(fresh.database)) OWNER \(quoted(d.owner)) ENCODING '\(d.encoding)' LC_COLLATE '\(d.collate)' LC_CTYPE '\(d.ctype)' TEMPLATE template0",
                       context: context)
        do throws(SlipwayError) {
            try await load(fresh)
            var grants = d.settings.compactMap { setting -> String? in
                guard let eq = setting.firstIndex(of: "=") else { return nil }
                return "ALTER DATABASE \(quoted(fresh.database)) SET \(quoted(String(setting[..<eq]))) = '\(setting[setting.index(after: eq)...].replacingOccurrences(of: "'", with: "''"))'"
            }
            grants += d.acl.flatMap { grantStatements($0, database: fresh.database) }
            if !grants.isEmpty { try await psql(admin, grants.joined(separator: ";\n"), context: context) }
            try await swap(url.database, with: fresh.database, keeping: old, admin: admin, context: context)
        } catch {
            try? await psql(admin, "DROP DATABASE IF EXISTS \(quoted(fresh.database)) WITH (FORCE)", context: context)
            throw error
        }
        // The restored data serves from here. The old database goes in the background: DROP DATABASE forces a checkpoint,
        // which would write out everything just restored before the restore could say it is done. One a daemon killed
        // meanwhile is dropped by the next restore.
        // A failure is in the restore's log (psql's own words); the database is then the next restore's leftover.
        Task.detached { try? await psql(admin, "DROP DATABASE IF EXISTS \(quoted(old)) WITH (FORCE)", context: context) }
    }

    /// Whether a backup's dump is restored with `pg_restore --jobs`: a plain pg_dump archive (older backups) of several
    /// tables (by the manifest's row counts; unknown: yes). A `copy` archive streams into one psql session.
    static func withJobs(_ entry: BackupManifest.Entry) -> Bool {
        entry.format != BackupManifest.Entry.postgresCopyFormat && (entry.rowCounts?.count ?? 4) >= 4
    }

    /// A plain custom-format dump restored into the empty database `url` with parallel jobs (tables loaded and indexes
    /// built side by side), not in one transaction: for a database nothing else uses yet.
    static func restoreJobs(_ plain: String, into url: DatabaseURL, context: ArchiveContext, jobs: Int? = nil) async throws(SlipwayError) {
        let pgRestore = try Tools.require(["pg_restore"], package: "postgresql-client")
        let n = jobs ?? max(2, min(8, ProcessInfo.processInfo.activeProcessorCount))
        try await ProcessPipeline([.init([pgRestore, "--no-owner", "--exit-on-error", "--jobs=\(n)", "--dbname=\(url.redacted)", plain],
                                         environment: url.postgresEnvironment())], logFile: context.logFile).run()
    }

    /// The dump streamed from the archive (decompressed on the way) into the empty database `url`.
    static func restoreStream(_ file: String, codec: Codec, into url: DatabaseURL, context: ArchiveContext) async throws(SlipwayError) {
        let pgRestore = try Tools.require(["pg_restore"], package: "postgresql-client")
        let restore = ProcessPipeline.Stage([pgRestore, "--no-owner", "--exit-on-error", "--dbname=\(url.redacted)"], environment: url.postgresEnvironment())
        try await ProcessPipeline(codec.decompressStages + [restore], input: file, logFile: context.logFile).run()
    }

    /// Connections to `live` refused and ended, then both renames in one transaction; undone when it fails.
    static func swap(_ live: String, with fresh: String, keeping old: String, admin: DatabaseURL, context: ArchiveContext) async throws(SlipwayError) {
        try await psql(admin, "ALTER DATABASE \(quoted(live)) WITH ALLOW_CONNECTIONS false", context: context)
        do {
            try await psql(admin, """
                BEGIN;
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(live.replacingOccurrences(of: "'", with: "''"))' AND pid <> pg_backend_pid();
                ALTER DATABASE \(quoted(live)) RENAME TO \(quoted(old));
                ALTER DATABASE \(quoted(fresh)) RENAME TO \(quoted(live));
                COMMIT;
                """, context: context)
        } catch {
            do { try await psql(admin, "ALTER DATABASE \(quoted(live)) WITH ALLOW_CONNECTIONS true", context: context) } catch let reopen {
                throw SlipwayError(.failed, "could not swap the restored database in, and \(live) still refuses connections: run ALTER DATABASE \(quoted(live)) WITH ALLOW_CONNECTIONS true",
                                   cause: "\(error.cause ?? error.message); \(reopen.cause ?? reopen.message)")
            }
            throw SlipwayError(.failed, "could not swap the restored database in; \(live) is unchanged", cause: error.cause ?? error.message)
        }
    }

    /// `GRANT` statements for one `aclitem` (`grantee=CTc/grantor`; an empty grantee is PUBLIC).
    static func grantStatements(_ item: String, database: String) -> [String] {
        guard let eq = item.lastIndex(of: "="), let slash = item.lastIndex(of: "/"), eq < slash else { return [] }
        let grantee = String(item[..<eq]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        let names: [Character: String] = ["C": "CREATE", "T": "TEMPORARY", "c": "CONNECT"]
        let privileges = item[item.index(after: eq)..<slash].compactMap { names[$0] }
        guard !privileges.isEmpty else { return [] }
        return ["GRANT \(privileges.joined(separator: ", ")) ON DATABASE \(quoted(database)) TO \(grantee.isEmpty ? "PUBLIC" : quoted(grantee))"]
    }

    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
