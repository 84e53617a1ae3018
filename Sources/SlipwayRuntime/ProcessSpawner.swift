#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SlipwayCore

/// Starts programs with posix_spawn: argv arrays (never a shell), their own session (so a signal or a
/// crash of the daemon does not reach them), stdout/stderr appended straight to a log file.
public enum ProcessSpawner {
    public struct Spawned: Sendable, Equatable {
        public var pid: Int32
        /// Start time in clock ticks since boot (/proc/PID/stat field 22): with the pid, identifies the process.
        public var startTime: UInt64
    }

    public static func spawn(argv: [String], directory: String, environment: [String: String], logFile: String) throws(SlipwayError) -> Spawned {
        let fd = try openLog(logFile)
        defer { close(fd) }
        return try spawn(argv: argv, directory: directory, environment: environment, stdin: nil, stdout: fd, stderr: fd)
    }

    /// Opens `path` for appending (close-on-exec), for a child's output. A new log is 0640: logs carry
    /// the app's output, which is nobody else's business.
    public static func openLog(_ path: String) throws(SlipwayError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw SlipwayError(.internal, "cannot open log file \(path)", cause: String(cString: strerror(errno))) }
        return fd
    }

    /// Starts `argv` with the given descriptors as its stdin (nil: /dev/null), stdout and stderr, and
    /// `inherit` as its descriptors 3, 4, …. Every other descriptor is closed in the child; the caller
    /// keeps (and closes) its own.
    public static func spawn(argv: [String], directory: String, environment: [String: String],
                             stdin: Int32?, stdout: Int32, stderr: Int32, inherit: [Int32] = []) throws(SlipwayError) -> Spawned {
        guard let program = argv.first else { throw .usage("empty command") }
        let path = resolve(program, directory: directory, environment: environment)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin { posix_spawn_file_actions_adddup2(&actions, stdin, 0) }
        else { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        guard let addChdir = Self.addChdir else {
            throw SlipwayError(.internal, "this C library lacks posix_spawn_file_actions_addchdir_np (glibc 2.29 or later is needed)")
        }
        _ = addChdir(&actions, directory)
        // The child must not inherit the daemon's sockets or files (an orphaned instance holding the
        // daemon's listening socket would swallow connections after a daemon crash).
        guard let closeFrom = Self.addCloseFrom else {
            throw SlipwayError(.internal, "this C library lacks posix_spawn_file_actions_addclosefrom_np (glibc 2.34 or later is needed)")
        }
        // Passed-on descriptors go first to high numbers (so none overwrites another), then to 3, 4, ….
        for (i, fd) in inherit.enumerated() { posix_spawn_file_actions_adddup2(&actions, fd, Int32(900 + i)) }
        for i in inherit.indices { posix_spawn_file_actions_adddup2(&actions, Int32(900 + i), Int32(3 + i)) }
        _ = closeFrom(&actions, Int32(3 + inherit.count))

        var attrs = posix_spawnattr_t()
        posix_spawnattr_init(&attrs)
        defer { posix_spawnattr_destroy(&attrs) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attrs, &mask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attrs, &defaults)
        posix_spawnattr_setflags(&attrs, Int16(Self.setsidFlag | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attrs, cArgs, cEnv)
        guard rc == 0 else {
            throw SlipwayError(.failed, "cannot start '\(program)' in \(directory)\(rc == ENOENT ? " (not installed or not on PATH?)" : "")",
                               cause: String(cString: strerror(rc)))
        }
        return Spawned(pid: pid, startTime: ProcessInspector.startTime(pid) ?? 0)
    }

    /// Runs a command to completion (release builds, hooks), output appended to `logFile`.
    /// Cancelling the calling task kills the command and everything it started (its own session), and returns its
    /// status then (137).
    public static func run(argv: [String], directory: String, environment: [String: String], logFile: String) async throws(SlipwayError) -> Int32 {
        let child = try spawn(argv: argv, directory: directory, environment: environment, logFile: logFile)
        let pid = child.pid
        return await withTaskCancellationHandler {
            await wait(pid)
        } onCancel: {
            _ = kill(-pid, SIGKILL)
        }
    }

    /// Waits for our child `pid` to exit; its exit status (128+signal when killed).
    public static func wait(_ pid: Int32) async -> Int32 {
        // Without a deadline the loop only ends when the child does.
        await wait(pid, timeout: nil)!
    }

    /// Waits for our child `pid` to exit, at most `timeout` (nil: no limit); nil if it is still running then.
    public static func wait(_ pid: Int32, timeout: Duration?) async -> Int32? {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var pause = 1
        while true {
            if let status = ProcessInspector.reap(pid) { return status }
            if let deadline, ContinuousClock.now >= deadline { return nil }
            // A cancelled task still waits for its child (to reap it), without spinning.
            do { try await Task.sleep(for: .milliseconds(pause)) } catch { usleep(UInt32(pause) * 1000) }
            pause = min(pause * 2, 20)
        }
    }

    /// glibc's `POSIX_SPAWN_SETSID` (not exported to Swift without _GNU_SOURCE).
    static let setsidFlag: Int32 = 0x80

    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    /// `posix_spawn_file_actions_addchdir_np`, looked up at run time for the same reason.
    static let addChdir = libcFunction("posix_spawn_file_actions_addchdir_np", as: AddChdir.self)

    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    static let addCloseFrom = libcFunction("posix_spawn_file_actions_addclosefrom_np", as: AddCloseFrom.self)

    /// A C library function looked up at run time (glibc's `_np` spawn actions are not exported to Swift).
    static func libcFunction<F>(_ name: String, as type: F.Type) -> F? {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(sym, to: F.self)
    }

    static func resolve(_ program: String, directory: String, environment: [String: String]) -> String {
        if program.contains("/") {
            return program.hasPrefix("/") ? program : directory + "/" + program
        }
        let path = environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? defaultPath
        return which(program, path: path) ?? program
    }

    static let defaultPath = "/usr/local/bin:/usr/bin:/bin"

    /// The first executable `program` in the directories of `path` (a PATH-style list), or nil.
    public static func which(_ program: String, path: String) -> String? {
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
