#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SlipwayCore
import SlipwayRuntime

/// Writing a backup in format `copy` (see `PostgresCopyArchive`): `pg_dump` without the rows of the tables that go
/// as binary COPY, then each of those tables through its own `psql` session, all in the snapshot `snapshot`.
extension PostgresArchiver {
    static func copyTables(_ session: Coprocess, name: String, url: DatabaseURL, logFile: String) async throws(SlipwayError) -> [PostgresCopyArchive.Table] {
        try session.send(PostgresCopyArchive.tablesQuery + "\nSELECT 'slipway-end';\n")
        guard let lines = await session.readUntil("slipway-end") else {
            throw SlipwayError(.failed, "source \(name): cannot list the tables of \(url.redacted)", cause: ProcessPipeline.tail(logFile))
        }
        let tables = PostgresCopyArchive.parseTables(lines)
        // As pg_dump does: a share lock on each table for the rest of the snapshot's transaction, so no ALTER or DROP
        // changes a table between the snapshot and its COPY.
        guard !tables.isEmpty else { return tables }
        try session.send("LOCK TABLE \(tables.map(\.qualified).joined(separator: ", ")) IN ACCESS SHARE MODE;\nSELECT 'slipway-end';\n")
        guard await session.readUntil("slipway-end") != nil else {
            throw SlipwayError(.failed, "source \(name): cannot lock the tables of \(url.redacted) for the backup", cause: ProcessPipeline.tail(logFile))
        }
        return tables
    }

    /// The archive written to `sink` (a file through its compressor, or a pipe to a restore reading it as it comes),
    /// which is finished here, or aborted on a failure.
    static func writeCopyArchive(to sink: StreamEnd, tables: [PostgresCopyArchive.Table], snapshot: String, url: DatabaseURL,
                                 context: ArchiveContext) async throws(SlipwayError) {
        let env = url.postgresEnvironment()
        let dump = "\(context.scratch)/\(SourceArchiver.scratchName("pg-schema"))"
        defer { try? FileManager.default.removeItem(atPath: dump) }
        let excluded = tables.map { "--exclude-table-data=\($0.dumpPattern)" }
        do throws(SlipwayError) {
            let pgDump = try Tools.require(["pg_dump"], package: "postgresql-client")
            let psql = try Tools.require(["psql"], package: "postgresql-client")
            try await ProcessPipeline([.init([pgDump, "--format=custom", "--compress=0", "--snapshot=\(snapshot)"] + excluded + ["--dbname=\(url.redacted)"],
                                             environment: env)], output: dump, logFile: context.logFile).run()
            let manifest: [UInt8]
            do { manifest = Array(try JSONEncoder().encode(PostgresCopyArchive.Manifest(tables: tables))) } catch {
                throw SlipwayError(.internal, "cannot encode the archive's table list", cause: error)
            }
            let head = PostgresCopyArchive.magic + PostgresCopyArchive.header(.manifest, length: manifest.count) + manifest
            try await blocking { () throws(SlipwayError) in try StreamEnd.write(sink.fd, head, 0..<head.count) }
            let dumpFd = open(dump, O_RDONLY | O_CLOEXEC)
            guard dumpFd >= 0 else { throw SlipwayError(.failed, "cannot read \(dump)", cause: String(cString: strerror(errno))) }
            defer { close(dumpFd) }
            try await blocking { () throws(SlipwayError) in try frames(from: dumpFd, to: sink.fd, kind: .dump, index: 0) }
            for (i, table) in tables.enumerated() {
                try await copyOut(table, index: UInt32(i), psql: psql, snapshot: snapshot, url: url, to: sink.fd, context: context)
            }
            let end = PostgresCopyArchive.header(.end, length: 0)
            try await blocking { () throws(SlipwayError) in try StreamEnd.write(sink.fd, end, 0..<end.count) }
        } catch {
            await sink.abort()
            throw error
        }
        try await sink.finish(logFile: context.logFile)
    }

    /// One table's rows as binary COPY, read in the backup's snapshot by a `psql` session of its own, framed into `out`.
    static func copyOut(_ table: PostgresCopyArchive.Table, index: UInt32, psql: String, snapshot: String, url: DatabaseURL,
                        to out: Int32, context: ArchiveContext) async throws(SlipwayError) {
        let (r, w) = try StreamEnd.pipePair()
        let pid: Int32
        do {
            let log = try ProcessSpawner.openLog(context.logFile)
            defer { close(log) }
            pid = try ProcessSpawner.spawn(argv: [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--dbname=\(url.redacted)",
                                                  "-c", "SET row_security = off",
                                                  "-c", "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                                                  "-c", "SET TRANSACTION SNAPSHOT '\(snapshot)'",
                                                  "-c", table.copyOut, "-c", "COMMIT"],
                                           directory: "/", environment: url.postgresEnvironment(), stdin: nil, stdout: w, stderr: log).pid
        } catch {
            close(r)
            close(w)
            throw error
        }
        close(w)
        do throws(SlipwayError) {
            try await blocking { () throws(SlipwayError) in try frames(from: r, to: out, kind: .table, index: index) }
        } catch {
            // Closing the read end ends a psql still writing (EPIPE); it is reaped before the error goes on.
            close(r)
            _ = await ProcessSpawner.wait(pid)
            throw error
        }
        close(r)
        let status = await ProcessSpawner.wait(pid)
        guard status == 0 else {
            throw SlipwayError(.failed, "copying the rows of \(table.schema).\(table.name) failed (psql exited with status \(status))",
                               cause: ProcessPipeline.tail(context.logFile))
        }
    }

    /// Everything readable from `input` written to `output` as frames of `kind` (at most `chunk` bytes of payload each).
    static func frames(from input: Int32, to output: Int32, kind: PostgresCopyArchive.Kind, index: UInt32) throws(SlipwayError) {
        let h = PostgresCopyArchive.headerSize
        var buffer = [UInt8](repeating: 0, count: h + PostgresCopyArchive.chunk)
        while true {
            // Fill the frame as far as the pipe gives (fewer, larger frames), up to the chunk size.
            var filled = 0
            while filled < PostgresCopyArchive.chunk {
                let n = try StreamEnd.read(input, into: &buffer, at: h + filled, count: PostgresCopyArchive.chunk - filled)
                if n == 0 { break }
                filled += n
            }
            if filled == 0 { return }
            let header = PostgresCopyArchive.header(kind, index: index, length: filled)
            buffer.replaceSubrange(0..<h, with: header)
            try StreamEnd.write(output, buffer, 0..<(h + filled))
            if filled < PostgresCopyArchive.chunk { return }
        }
    }
}
