#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SlipwayCore
import SlipwayRuntime

/// One end of a byte stream this process reads or writes itself: a file, or a file seen through a program
/// (decompressed as it is read, compressed as it is written). Reads and writes block: call them from `blocking`.
struct StreamEnd: Sendable {
    let fd: Int32
    /// The program between this process and the file, if any.
    let pid: Int32?
    let display: String

    /// `file` for reading, through `stage` (a decompressor) when given.
    static func reading(_ file: String, through stage: ProcessPipeline.Stage?, logFile: String) throws(SlipwayError) -> StreamEnd {
        let input = open(file, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw SlipwayError(.failed, "cannot read \(file)", cause: String(cString: strerror(errno))) }
        guard let stage else { return StreamEnd(fd: input, pid: nil, display: file) }
        defer { close(input) }
        let (r, w) = try pipePair()
        return try start(stage, stdin: input, stdout: w, ours: r, theirs: w, logFile: logFile)
    }

    /// `file` (created 0600, truncated) for writing, through `stage` (a compressor) when given.
    static func writing(_ file: String, through stage: ProcessPipeline.Stage?, logFile: String) throws(SlipwayError) -> StreamEnd {
        let output = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw SlipwayError(.failed, "cannot write \(file)", cause: String(cString: strerror(errno))) }
        guard let stage else { return StreamEnd(fd: output, pid: nil, display: file) }
        defer { close(output) }
        let (r, w) = try pipePair()
        return try start(stage, stdin: r, stdout: output, ours: w, theirs: r, logFile: logFile)
    }

    /// Starts `stage` on the given descriptors; this process keeps `ours` (the pipe's other end) and closes `theirs`.
    static func start(_ stage: ProcessPipeline.Stage, stdin: Int32, stdout: Int32, ours: Int32, theirs: Int32,
                      logFile: String) throws(SlipwayError) -> StreamEnd {
        defer { close(theirs) }
        do {
            let log = try ProcessSpawner.openLog(logFile)
            defer { close(log) }
            let pid = try ProcessSpawner.spawn(argv: stage.argv, directory: stage.directory, environment: stage.environment,
                                               stdin: stdin, stdout: stdout, stderr: log).pid
            return StreamEnd(fd: ours, pid: pid, display: stage.display)
        } catch {
            close(ours)
            throw error
        }
    }

    /// A pipe (close-on-exec, 1 MiB when the kernel allows), read end first.
    static func pipePair() throws(SlipwayError) -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SlipwayError(.internal, "cannot create a pipe", cause: String(cString: strerror(errno))) }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], ProcessPipeline.setPipeSize, Int32(1 << 20))
        // Writing to a program that died must fail with EPIPE, not end this process.
        signal(SIGPIPE, SIG_IGN)
        return (fds[0], fds[1])
    }

    /// Closes this end and waits for the program, throwing if it failed.
    func finish(logFile: String) async throws(SlipwayError) {
        close(fd)
        guard let pid else { return }
        let status = await ProcessSpawner.wait(pid)
        guard status == 0 else { throw SlipwayError(.failed, "'\(display)' exited with status \(status)", cause: ProcessPipeline.tail(logFile)) }
    }

    /// Closes this end, stops the program and reaps it (after another failure).
    func abort() async {
        close(fd)
        guard let pid else { return }
        kill(pid, SIGTERM)
        _ = await ProcessSpawner.wait(pid)
    }

    /// Up to `count` bytes read into `buffer` at `offset` (0 at the end of the stream).
    static func read(_ fd: Int32, into buffer: inout [UInt8], at offset: Int, count: Int) throws(SlipwayError) -> Int {
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + offset, count) }
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw SlipwayError(.failed, "cannot read a stream", cause: String(cString: strerror(errno)))
        }
    }

    /// Writes `range` of `bytes` whole.
    static func write(_ fd: Int32, _ bytes: [UInt8], _ range: Range<Int>) throws(SlipwayError) {
        var at = range.lowerBound
        while at < range.upperBound {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + at, range.upperBound - at) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SlipwayError(.failed, "cannot write a stream", cause: String(cString: strerror(errno)))
            }
            at += n
        }
    }
}
