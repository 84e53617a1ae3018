#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SlipwayCore
import SlipwayRuntime

/// Restoring a backup in format `copy`: one `psql` session, in one transaction, runs the schema from the archive's
/// pg_dump part, loads each table's binary rows from a FIFO this process feeds as the archive streams in, then the rest
/// (sequences, other rows, indexes, constraints, triggers); in place, the drops of `pg_restore --clean` come first.
/// One transaction also into a new database: `pg_restore --jobs` for the rest after the rows commit measured 20–40%
/// slower (most likely its index builds over committed rows set hint bits, writing every page again).
extension PostgresArchiver {
    static func restoreCopy(file: String, codec: Codec, into url: DatabaseURL, newDatabase: Bool, context: ArchiveContext) async throws(SlipwayError) {
        try await restoreCopy(from: try StreamEnd.reading(file, through: codec.decompressStage, logFile: context.logFile),
                              into: url, newDatabase: newDatabase, context: context)
    }

    /// The archive read from `source` (a file through its decompressor, or a pipe a copy writes as it reads its
    /// tables), which is finished here, or aborted on a failure.
    static func restoreCopy(from source: StreamEnd, into url: DatabaseURL, newDatabase: Bool, context: ArchiveContext) async throws(SlipwayError) {
        let work = "\(context.scratch)/\(SourceArchiver.scratchName("pg-copy"))"
        let psql: String
        do throws(SlipwayError) {
            psql = try Tools.require(["psql"], package: "postgresql-client")
            guard !work.contains("'") else { throw .usage("the scratch directory \(context.scratch) holds a quote; psql cannot name files in it") }
            try DirectoryArchiver.makeDirectory(work)
        } catch {
            await source.abort()
            throw error
        }
        defer { try? FileManager.default.removeItem(atPath: work) }
        var psqlPid: Int32?
        do throws(SlipwayError) {
            // The manifest and the pg_dump part come first; the first table frame (or the end) is where loading starts.
            var parser = PostgresCopyArchive.Parser()
            let dump = "\(work)/schema.pgdump"
            let (first, manifest) = try await readSchema(source, parser: &parser, dump: dump)
            let fifos = try await prepareScripts(manifest, dump: dump, work: work, newDatabase: newDatabase, context: context)
            let log = try ProcessSpawner.openLog(context.logFile)
            defer { close(log) }
            let pid = try ProcessSpawner.spawn(argv: [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "--dbname=\(url.redacted)",
                                                      "-o", "/dev/null", "-f", "\(work)/restore.sql"],
                                               directory: "/", environment: url.postgresEnvironment(), stdin: nil, stdout: log, stderr: log).pid
            psqlPid = pid
            let state = parser
            try await blocking { () throws(SlipwayError) in
                var parser = state
                try feedTables(first, parser: &parser, source: source.fd, fifos: fifos, reader: pid)
            }
            psqlPid = nil
            let status = await ProcessSpawner.wait(pid)
            guard status == 0 else {
                throw SlipwayError(.failed, "psql exited with status \(status) loading the archive", cause: ProcessPipeline.tail(context.logFile))
            }
        } catch {
            await source.abort()
            if let psqlPid {
                // psql that stopped on its own has the reason (its error is in the log); else it is stopped here.
                if let status = ProcessInspector.reap(psqlPid), status != 0 {
                    throw SlipwayError(.failed, "psql exited with status \(status) loading the archive", cause: ProcessPipeline.tail(context.logFile))
                }
                kill(psqlPid, SIGTERM)
                _ = await ProcessSpawner.wait(psqlPid)
            }
            throw error
        }
        try await source.finish(logFile: context.logFile)
    }

    /// Reads the manifest and the pg_dump part (into `dump`); returns the chunk holding the first table frame (or the end)
    /// and its pieces from there.
    static func readSchema(_ source: StreamEnd, parser: inout PostgresCopyArchive.Parser,
                           dump: String) async throws(SlipwayError) -> ((bytes: [UInt8], pieces: [PostgresCopyArchive.Parser.Piece]), PostgresCopyArchive.Manifest) {
        let out = open(dump, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw SlipwayError(.failed, "cannot write \(dump)", cause: String(cString: strerror(errno))) }
        defer { close(out) }
        var manifestBytes: [UInt8] = []
        while true {
            let bytes = try await blocking { () throws(SlipwayError) -> [UInt8] in
                var buffer = [UInt8](repeating: 0, count: PostgresCopyArchive.chunk)
                let n = try StreamEnd.read(source.fd, into: &buffer, at: 0, count: buffer.count)
                buffer.removeSubrange(n...)
                return buffer
            }
            guard !bytes.isEmpty else { throw SlipwayError(.failed, "the PostgreSQL archive ends before its tables: it was cut short") }
            let pieces = try parser.feed(bytes)
            for (n, piece) in pieces.enumerated() {
                switch piece.kind {
                case .manifest: manifestBytes += bytes[piece.range]
                case .dump: try await blocking { () throws(SlipwayError) in try StreamEnd.write(out, bytes, piece.range) }
                case .table, .end:
                    do {
                        let manifest = try JSONDecoder().decode(PostgresCopyArchive.Manifest.self, from: Data(manifestBytes))
                        return ((bytes, Array(pieces[n...])), manifest)
                    } catch {
                        throw SlipwayError(.failed, "the PostgreSQL archive's manifest is missing or unreadable: it is damaged", cause: error)
                    }
                }
            }
        }
    }

    /// The scripts psql runs (`restore.sql` including the others) and one FIFO per table, in the manifest's order.
    static func prepareScripts(_ manifest: PostgresCopyArchive.Manifest, dump: String, work: String, newDatabase: Bool,
                               context: ArchiveContext) async throws(SlipwayError) -> [String] {
        let pgRestore = try Tools.require(["pg_restore"], package: "postgresql-client")
        func script(_ name: String, _ flags: [String]) async throws(SlipwayError) {
            try await ProcessPipeline([.init([pgRestore, "--no-owner", "-f", "\(work)/\(name)"] + flags + [dump])], logFile: context.logFile).run()
        }
        var lines = ["\\set ON_ERROR_STOP on"]
        if !newDatabase {
            try await script("clean.sql", ["--clean", "--if-exists"])
            do {
                let text = try String(contentsOfFile: "\(work)/clean.sql", encoding: .utf8)
                try PostgresCopyArchive.dropScript(fromCleanScript: text).write(toFile: "\(work)/drop.sql", atomically: false, encoding: .utf8)
            } catch {
                throw SlipwayError(.failed, "cannot turn \(work)/clean.sql into the restore's drop script", cause: error)
            }
            lines.append("\\i '\(work)/drop.sql'")
        }
        try await script("pre.sql", ["--section=pre-data"])
        try await script("post.sql", ["--section=data", "--section=post-data"])
        lines.append("\\i '\(work)/pre.sql'")
        var fifos: [String] = []
        for (i, table) in manifest.tables.enumerated() {
            let fifo = "\(work)/table-\(i)"
            guard mkfifo(fifo, 0o600) == 0 else { throw SlipwayError(.failed, "cannot create the FIFO \(fifo)", cause: String(cString: strerror(errno))) }
            fifos.append(fifo)
            lines.append(table.copyIn(from: fifo))
        }
        lines.append("\\i '\(work)/post.sql'")
        do { try (lines.joined(separator: "\n") + "\n").write(toFile: "\(work)/restore.sql", atomically: false, encoding: .utf8) } catch {
            throw SlipwayError(.failed, "cannot write \(work)/restore.sql", cause: error)
        }
        return fifos
    }

    /// Feeds each table's rows to its FIFO as they stream in (blocking; on a dispatch thread), starting with `first`.
    static func feedTables(_ first: (bytes: [UInt8], pieces: [PostgresCopyArchive.Parser.Piece]), parser: inout PostgresCopyArchive.Parser,
                           source: Int32, fifos: [String], reader: Int32) throws(SlipwayError) {
        var current: (index: Int, fd: Int32)?
        defer { if let current { close(current.fd) } }
        func route(_ bytes: [UInt8], _ pieces: [PostgresCopyArchive.Parser.Piece]) throws(SlipwayError) {
            for piece in pieces {
                switch piece.kind {
                case .table:
                    let k = Int(piece.index)
                    if current?.index != k {
                        guard k == (current?.index ?? -1) + 1, k < fifos.count else {
                            throw SlipwayError(.failed, "the PostgreSQL archive's tables are out of order: it is damaged")
                        }
                        if let c = current { close(c.fd) }
                        current = nil
                        current = (k, try openWriter(fifos[k], reader: reader))
                    }
                    if let fd = current?.fd { try StreamEnd.write(fd, bytes, piece.range) }
                case .end:
                    guard (current?.index ?? -1) == fifos.count - 1 else {
                        throw SlipwayError(.failed, "the PostgreSQL archive ends before all its tables: it is damaged")
                    }
                case .manifest, .dump:
                    throw SlipwayError(.failed, "the PostgreSQL archive's schema comes after its tables: it is damaged")
                }
            }
        }
        try route(first.bytes, first.pieces)
        var buffer = [UInt8](repeating: 0, count: PostgresCopyArchive.chunk)
        while true {
            let n = try StreamEnd.read(source, into: &buffer, at: 0, count: buffer.count)
            if n == 0 { break }
            let bytes = n == buffer.count ? buffer : Array(buffer[0..<n])
            try route(bytes, try parser.feed(bytes))
        }
        try parser.finish()
    }

    /// Opens a FIFO for writing once psql (`reader`) opens it to read; throws if psql ends first (its error is in the log).
    static func openWriter(_ fifo: String, reader: Int32) throws(SlipwayError) -> Int32 {
        while true {
            let fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
                return fd
            }
            guard errno == ENXIO || errno == EINTR else { throw SlipwayError(.failed, "cannot open \(fifo)", cause: String(cString: strerror(errno))) }
            var info = siginfo_t()
            if waitid(P_PID, id_t(reader), &info, WEXITED | WNOHANG | WNOWAIT) == 0, info._sifields._sigchld.si_pid == reader {
                throw SlipwayError(.failed, "psql stopped before loading every table")
            }
            usleep(2_000)
        }
    }
}
