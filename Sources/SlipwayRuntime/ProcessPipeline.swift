#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SlipwayCore

/// Programs connected by pipes, like `a | b > file` but with argv arrays and no shell: data flows
/// between the processes in the kernel, never through this one, and never whole in memory.
public struct ProcessPipeline: Sendable {
    public struct Stage: Sendable {
        public var argv: [String]
        public var environment: [String: String]
        public var directory: String

        public init(_ argv: [String], environment: [String: String] = ProcessInfo.processInfo.environment, directory: String = "/") {
            self.argv = argv
            self.environment = environment
            self.directory = directory
        }

        /// The command as shown in logs and errors: the program and its flags, never the environment.
        public var display: String { argv.joined(separator: " ") }
    }

    public var stages: [Stage]
    /// The file the first stage reads (nil: /dev/null).
    public var input: String?
    /// The file the last stage writes, created or truncated (nil: the log).
    public var output: String?
    /// Where every stage's stderr goes.
    public var logFile: String
    /// When the task running it is cancelled, every stage gets SIGTERM (long runs a shutdown should not wait for).
    public var stopsOnCancel = false

    public init(_ stages: [Stage], input: String? = nil, output: String? = nil, logFile: String) {
        self.stages = stages
        self.input = input
        self.output = output
        self.logFile = logFile
    }

    /// Linux's F_SETPIPE_SZ (not exported by Glibc's module).
    public static let setPipeSize: Int32 = 1031

    /// Runs every stage to completion. Throws naming the first stage that failed and the log's tail.
    public func run() async throws(SlipwayError) {
        let log = try ProcessSpawner.openLog(logFile)
        defer { close(log) }
        var inFd: Int32 = -1
        if let input {
            inFd = open(input, O_RDONLY | O_CLOEXEC)
            guard inFd >= 0 else { throw SlipwayError(.failed, "cannot read \(input)", cause: String(cString: strerror(errno))) }
        }
        var outFd = log
        if let output {
            outFd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard outFd >= 0 else {
                if inFd >= 0 { close(inFd) }
                throw SlipwayError(.failed, "cannot write \(output)", cause: String(cString: strerror(errno)))
            }
        }
        var pids: [Int32] = []
        var startError: SlipwayError?
        var readEnd = inFd
        for (i, stage) in stages.enumerated() {
            var writeEnd = outFd
            var nextRead: Int32 = -1
            if i < stages.count - 1 {
                var fds: [Int32] = [0, 0]
                // Children close every inherited descriptor above 2, so a plain pipe cannot leak into them.
                guard pipe(&fds) == 0 else {
                    startError = SlipwayError(.internal, "cannot create a pipe", cause: String(cString: strerror(errno)))
                    break
                }
                _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
                _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
                // A 1 MiB pipe instead of 64 KiB: a fast writer (zstd) and a reader taking small bites (pg_restore's
                // stdio) wake each other a sixteenth as often. Best effort: the kernel's pipe-max-size may refuse it.
                _ = fcntl(fds[1], Self.setPipeSize, Int32(1 << 20))
                nextRead = fds[0]
                writeEnd = fds[1]
            }
            do {
                let child = try ProcessSpawner.spawn(argv: stage.argv, directory: stage.directory, environment: stage.environment,
                                                     stdin: readEnd >= 0 ? readEnd : nil, stdout: writeEnd, stderr: log)
                pids.append(child.pid)
            } catch {
                startError = error
            }
            if readEnd >= 0 { close(readEnd) }
            if writeEnd != outFd { close(writeEnd) }
            readEnd = nextRead
            if startError != nil { break }
        }
        if readEnd >= 0 { close(readEnd) }
        if outFd != log { close(outFd) }
        // A stage that failed to start leaves the others reading a closed pipe: they end; reap them all.
        let started = pids, stops = stopsOnCancel
        let statuses = await withTaskCancellationHandler { () async -> [Int32] in
            var out: [Int32] = []
            for pid in started { out.append(await ProcessSpawner.wait(pid)) }
            return out
        } onCancel: {
            if stops { for pid in started { kill(pid, SIGTERM) } }
        }
        if let startError { throw startError }
        for (i, status) in statuses.enumerated() where status != 0 {
            // A writer killed by SIGPIPE only means a later stage stopped reading: report that stage instead.
            if status == 128 + SIGPIPE, statuses[(i + 1)...].contains(where: { $0 != 0 }) { continue }
            throw SlipwayError(.failed, "'\(stages[i].display)' exited with status \(status)", cause: Self.tail(logFile))
        }
    }

    /// Runs the pipeline and returns what the last stage wrote (small outputs: versions, query results).
    /// `output` is replaced by a temp file that is removed afterwards.
    public func capture() async throws(SlipwayError) -> String {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-out-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        var copy = self
        copy.output = out
        try await copy.run()
        return (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    }

    /// The last lines of a log, for error messages.
    public static func tail(_ path: String, lines: Int = 12) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(no output)" }
        let all = text.split(separator: "\n", omittingEmptySubsequences: true)
        return all.suffix(lines).joined(separator: "\n")
    }
}
