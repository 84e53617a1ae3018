import Foundation
import SlipwayCore
import SlipwayRuntime

/// MySQL and MariaDB: `mysqldump --single-transaction --routines --triggers` (or `mariadb-dump`),
/// compressed on the way out; restored by piping into the `mysql`/`mariadb` client.
/// The password reaches the tools through MYSQL_PWD only.
enum MySQLArchiver {
    static func dumpTool() throws(SlipwayError) -> String { try Tools.require(["mariadb-dump", "mysqldump"], package: "mariadb-client") }
    static func client() throws(SlipwayError) -> String { try Tools.require(["mariadb", "mysql"], package: "mariadb-client") }

    static func backup(name: String, url: DatabaseURL, context: ArchiveContext) async throws(SlipwayError) -> BackupManifest.Entry {
        let dump = try dumpTool()
        let started = Date()
        // MySQL cannot share a snapshot between two sessions: the counts come from their own consistent
        // snapshot just before the dump, and are marked inexact.
        let counts = try? await rowCounts(url, context: context)
        let file = "\(context.staging)/\(name).sql\(context.codec.fileExtension)"
        var stages = [ProcessPipeline.Stage([dump] + url.mysqlArguments + ["--single-transaction", "--routines", "--triggers", "--events",
                                                                          "--hex-blob", "--default-character-set=utf8mb4", url.database],
                                            environment: url.mysqlEnvironment())]
        if let c = context.codec.compressStage { stages.append(c) }
        do {
            try await ProcessPipeline(stages, output: file, logFile: context.logFile).run()
        } catch {
            throw SlipwayError(.failed, "source \(name): \((dump as NSString).lastPathComponent) of \(url.redacted) failed", cause: error.cause ?? error.message)
        }
        return BackupManifest.Entry(
            source: name, kind: "mysql", file: (file as NSString).lastPathComponent, size: Checksum.size(file),
            sha256: try await SourceArchiver.checksum(file, context), compression: context.codec.rawValue, encrypted: false,
            tool: await Tools.version(dump, log: context.logFile), startedAt: started, finishedAt: Date(),
            rowCounts: counts, rowCountsExact: counts == nil ? nil : false)
    }

    static func restore(file: String, codec: Codec, to url: DatabaseURL, context: ArchiveContext) async throws(SlipwayError) {
        let mysql = try client()
                let load = ProcessPipeline.Stage([mysql] + url.mysqlArguments + ["--default-character-set=utf8mb4", url.database],
                                         environment: url.mysqlEnvironment())
        do {
            try await ProcessPipeline(codec.decompressStages + [load], input: file, logFile: context.logFile).run()
        } catch {
            throw SlipwayError(.failed, "loading the dump into \(url.redacted) failed", cause: error.cause ?? error.message)
        }
    }

    static func restoreTest(_ entry: BackupManifest.Entry, file: String, codec: Codec, server: DatabaseURL,
                            context: ArchiveContext) async throws(SlipwayError) -> RestoreCheck {
        let scratch = server.with(database: "slipway_verify_" + UUID().uuidString.prefix(8).lowercased())
        try await execute(server, "CREATE DATABASE `\(scratch.database)`", context: context)
        do {
            try await restore(file: file, codec: codec, to: scratch, context: context)
            let counts = try await rowCounts(scratch, context: context)
            try? await execute(server, "DROP DATABASE IF EXISTS `\(scratch.database)`", context: context)
            let (ok, detail) = SourceArchiver.compare(entry.rowCounts, counts, exact: entry.rowCountsExact ?? false)
            return RestoreCheck(source: entry.source, ok: ok, detail: "load into \(scratch.database) ok; " + detail, rowCounts: counts)
        } catch {
            try? await execute(server, "DROP DATABASE IF EXISTS `\(scratch.database)`", context: context)
            return RestoreCheck(source: entry.source, ok: false, detail: error.message + (error.cause.map { ": \($0)" } ?? ""))
        }
    }

    /// Exact row counts per base table, in one consistent snapshot.
    static func rowCounts(_ url: DatabaseURL, context: ArchiveContext) async throws(SlipwayError) -> [String: Int64] {
        let tables = try await query(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name", context: context)
        guard !tables.isEmpty else { return [:] }
        let selects = tables.map { "SELECT '\($0)', COUNT(*) FROM `\($0.replacingOccurrences(of: "`", with: "``"))`;" }.joined(separator: " ")
        let lines = try await query(url, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY; \(selects) COMMIT;", context: context)
        var out: [String: Int64] = [:]
        for line in lines {
            let parts = line.split(separator: "\t")
            if parts.count == 2, let n = Int64(parts[1]) { out[String(parts[0])] = n }
        }
        return out
    }

    static func execute(_ url: DatabaseURL, _ sql: String, context: ArchiveContext) async throws(SlipwayError) {
        _ = try await query(url.with(database: "mysql"), sql, context: context)
    }

    static func query(_ url: DatabaseURL, _ sql: String, context: ArchiveContext) async throws(SlipwayError) -> [String] {
        let mysql = try client()
        let text = try await ProcessPipeline([.init([mysql] + url.mysqlArguments + ["-N", "-B", "-e", sql, url.database], environment: url.mysqlEnvironment())],
                                             logFile: context.logFile).capture()
        return text.split(separator: "\n").map(String.init)
    }
}
