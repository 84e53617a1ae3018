#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SlipwayCore
import SlipwayRuntime

/// A throwaway PostgreSQL server that recovers a base backup to a point: its own data directory, configuration and
/// Unix socket (no TCP port at all), `restore_command` copying from a local directory of WAL segments. PostgreSQL
/// refuses to run as root, so a root daemon starts it as the `postgres` user (else `nobody`) through `slipway launch`.
public struct ScratchCluster: Sendable {
    /// `data/`, `wal/`, the configuration files and `server.log`.
    public let directory: String
    /// The socket's directory (short: a socket path has a 107-byte limit).
    public let socketDirectory: String
    let confinement: Confinement?
    let launcher: String?
    var postmaster: ProcessSpawner.Spawned?

    public var data: String { directory + "/data" }
    public var wal: String { directory + "/wal" }
    public var log: String { directory + "/server.log" }

    /// A new empty scratch cluster under `parent` (or /var/tmp when the user it runs as cannot reach `parent`).
    public static func create(parent: String, launcher: String?) throws(SlipwayError) -> ScratchCluster {
        var confinement: Confinement?
        if geteuid() == 0 {
            guard let c = Confinement.user(["postgres", "nobody"]) else {
                throw .failed("PostgreSQL does not run as root and this host has neither a postgres nor a nobody user to run the recovery as")
            }
            confinement = c
        }
        let reachable = confinement == nil || Self.traversable(parent)
        let base = reachable ? parent : "/var/tmp"
        let id = String(UUID().uuidString.prefix(8)).lowercased()
        let dir = "\(base)/pg-\(id)", socket = "/tmp/slipway-pg-\(id)"
        for d in [dir, dir + "/data", dir + "/wal", socket] {
            guard mkdir(d, 0o700) == 0 || (d == dir && errno == EEXIST) else {
                if errno == ENOENT, d == dir { try DirectoryArchiver.makeDirectory(base); return try create(parent: parent, launcher: launcher) }
                throw SlipwayError(.failed, "cannot create \(d)", cause: String(cString: strerror(errno)))
            }
        }
        // Whose it is: `sweep` leaves the clusters of a daemon that still runs (another restore, another app's).
        do { try PrivateFile.write(Data("\(getpid()) \(ProcessInspector.startTime(getpid()) ?? 0)".utf8), to: dir + "/owner") } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw SlipwayError(.failed, "cannot write \(dir)/owner", cause: error.message)
        }
        return ScratchCluster(directory: dir, socketDirectory: socket, confinement: confinement, launcher: confinement == nil ? nil : launcher)
    }

    /// Whether every directory from / to `path` lets other users through (o+x).
    static func traversable(_ path: String) -> Bool {
        var p = path
        while p.count > 1 {
            var st = stat()
            if stat(p, &st) == 0, st.st_mode & 0o001 == 0 { return false }
            p = (p as NSString).deletingLastPathComponent
        }
        return true
    }

    /// Hands the directories to the user the server runs as.
    func chown() async throws(SlipwayError) {
        guard let c = confinement, let uid = c.uid, let gid = c.gid else { return }
        try await ProcessPipeline([.init(["chown", "-R", "\(uid):\(gid)", directory, socketDirectory])], logFile: "/dev/null").run()
    }

    /// Writes the configuration: recovery from `wal/` to `target` (nil: to the end of the WAL), then promotion.
    func configure(target: Date?, inclusive: Bool) throws(SlipwayError) {
        var lines = [
            "listen_addresses = ''", "port = 5432", "unix_socket_directories = '\(socketDirectory)'",
            "hba_file = '\(directory)/hba.conf'", "ident_file = '\(directory)/ident.conf'",
            "restore_command = 'cp \"\(wal)/%f\" \"%p\"'", "recovery_target_action = 'promote'", "hot_standby = off",
            "archive_mode = off", "fsync = off", "synchronous_commit = off", "logging_collector = off", "max_connections = 20",
            "shared_preload_libraries = ''",
        ]
        if let target {
            lines.append("recovery_target_time = '\(Self.timestamp(target))'")
            lines.append("recovery_target_inclusive = \(inclusive ? "on" : "off")")
        }
        do {
            try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/slipway.conf", atomically: true, encoding: .utf8)
            try "local all all trust\n".write(toFile: directory + "/hba.conf", atomically: true, encoding: .utf8)
            try "".write(toFile: directory + "/ident.conf", atomically: true, encoding: .utf8)
            // The live server's own settings (replication, extensions, paths) stay out of the scratch one.
            try "".write(toFile: data + "/postgresql.auto.conf", atomically: true, encoding: .utf8)
            if !FileManager.default.fileExists(atPath: data + "/recovery.signal") {
                _ = FileManager.default.createFile(atPath: data + "/recovery.signal", contents: nil)
            }
        } catch { throw SlipwayError(.failed, "cannot write the scratch cluster's configuration in \(directory)", cause: error) }
    }

    /// `2026-12-06 10:15:02.123456+00`, as recovery_target_time takes it.
    static func timestamp(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss.SSSSSS'+00'"
        return f.string(from: date)
    }

    /// Starts the server (the `postgres` of `version`, the base's major version).
    mutating func start(version: Int) throws(SlipwayError) {
        let candidates = ["/usr/lib/postgresql/\(version)/bin/postgres"]
        guard let postgres = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) ?? Tools.find("postgres") else {
            throw SlipwayError(.unavailable, "the PostgreSQL \(version) server (postgres) is not installed here: a point restore recovers in a scratch server of the same version; install postgresql-\(version)")
        }
        let argv = [postgres, "-D", data, "-c", "config_file=\(directory)/slipway.conf"]
        var env = ProcessInfo.processInfo.environment
        env["LC_ALL"] = "C"
        if let confinement, let launcher {
            postmaster = try ProcessSpawner.spawn(argv: argv, directory: directory, environment: env, logFile: log, confinement: confinement, launcher: launcher)
        } else {
            postmaster = try ProcessSpawner.spawn(argv: argv, directory: directory, environment: env, logFile: log)
        }
    }

    /// `psql -c sql` on the scratch server's socket; its lines (its errors go to `query.log`, so the server's log, quoted
    /// when the recovery fails, stays the server's own).
    func query(_ sql: String, database: String, user: String) async throws(SlipwayError) -> [String] {
        let psql = try Tools.require(["psql"], package: "postgresql-client")
        let text = try await ProcessPipeline([.init([psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"] + connection(database: database, user: user) + ["-c", sql])],
                                             logFile: directory + "/query.log").capture()
        return text.split(separator: "\n").map(String.init)
    }

    /// libpq's arguments for the scratch server.
    func connection(database: String, user: String) -> [String] {
        ["-h", socketDirectory, "-p", "5432", "-U", user, "-d", database]
    }

    /// The scratch server's database as a URL (its socket's directory in `host=`).
    func url(database: String, user: String) throws(SlipwayError) -> DatabaseURL {
        var c = URLComponents()
        c.scheme = "postgresql"
        c.user = user
        c.host = ""
        c.path = "/" + database
        c.queryItems = [URLQueryItem(name: "host", value: socketDirectory), URLQueryItem(name: "port", value: "5432")]
        return try DatabaseURL(parsing: c.string ?? "", secret: "the recovered server's database")
    }

    /// Stops the server (fast shutdown, then killed) and removes every file of it.
    func destroy() async {
        if let p = postmaster {
            _ = kill(p.pid, SIGINT)
            if await ProcessSpawner.wait(p.pid, timeout: .seconds(30)) == nil {
                ProcessGroup.signal(p.pid, startTime: p.startTime, SIGKILL)
                _ = await ProcessSpawner.wait(p.pid, timeout: .seconds(5))
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: socketDirectory)
    }

    /// Scratch clusters a dead daemon left under `parent` (and /var/tmp): their servers stopped, their files removed.
    /// Those of a daemon still running are left alone.
    public static func sweep(parent: String) {
        for base in [parent, "/var/tmp"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] where name.hasPrefix("pg-") && name.count == 11 {
                let dir = "\(base)/\(name)"
                guard FileManager.default.fileExists(atPath: dir + "/wal") else { continue }
                let owner = (try? String(contentsOfFile: dir + "/owner", encoding: .utf8))?.split(separator: " ").compactMap { UInt64($0) } ?? []
                if owner.count == 2, ProcessInspector.isAlive(pid: Int32(owner[0]), startTime: owner[1]) { continue }
                if let text = try? String(contentsOfFile: dir + "/data/postmaster.pid", encoding: .utf8),
                   let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }), pid > 1,
                   let cmd = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8), cmd.contains(dir) {
                    _ = kill(pid, SIGKILL)
                }
                try? FileManager.default.removeItem(atPath: dir)
                try? FileManager.default.removeItem(atPath: "/tmp/slipway-pg-" + name.dropFirst(3))
            }
        }
    }
}
