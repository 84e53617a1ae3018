#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SlipwayCore

/// A program this process talks to through its stdin and stdout (a `psql` session holding a snapshot,
/// say). Reads block on a dispatch thread, never on the concurrency pool. stderr goes to a log.
public final class Coprocess: @unchecked Sendable {
    public let pid: Int32
    let input: FileHandle
    let output: FileHandle
    let lock = NSLock()
    var pending = Data()

    public init(argv: [String], environment: [String: String], directory: String = "/", logFile: String) throws(SlipwayError) {
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0]
        guard pipe(&toChild) == 0 else { throw SlipwayError(.internal, "cannot create a pipe", cause: String(cString: strerror(errno))) }
        guard pipe(&fromChild) == 0 else {
            close(toChild[0]); close(toChild[1])
            throw SlipwayError(.internal, "cannot create a pipe", cause: String(cString: strerror(errno)))
        }
        for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let log: Int32
        do { log = try ProcessSpawner.openLog(logFile) } catch {
            for fd in toChild + fromChild { close(fd) }
            throw error
        }
        defer {
            close(log)
            close(toChild[0])
            close(fromChild[1])
        }
        do {
            pid = try ProcessSpawner.spawn(argv: argv, directory: directory, environment: environment,
                                           stdin: toChild[0], stdout: fromChild[1], stderr: log).pid
        } catch {
            close(toChild[1]); close(fromChild[0])
            throw error
        }
        // Writing to a program that died must fail with EPIPE, not kill this process.
        signal(SIGPIPE, SIG_IGN)
        input = FileHandle(fileDescriptor: toChild[1], closeOnDealloc: true)
        output = FileHandle(fileDescriptor: fromChild[0], closeOnDealloc: true)
    }

    public func send(_ text: String) throws(SlipwayError) {
        do { try input.write(contentsOf: Data(text.utf8)) } catch {
            throw SlipwayError(.failed, "\(pid) stopped reading its input", cause: error)
        }
    }

    public func closeInput() { try? input.close() }

    /// The next line of output without its newline, or nil at end of output.
    public func readLine() async -> String? {
        await withCheckedContinuation { (c: CheckedContinuation<String?, Never>) in
            DispatchQueue.global().async {
                c.resume(returning: self.blockingReadLine())
            }
        }
    }

    func blockingReadLine() -> String? {
        lock.lock()
        defer { lock.unlock() }
        while true {
            if let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[pending.startIndex..<nl]
                pending.removeSubrange(pending.startIndex...nl)
                return String(decoding: line, as: UTF8.self)
            }
            let chunk = output.availableData
            if chunk.isEmpty {
                guard !pending.isEmpty else { return nil }
                defer { pending.removeAll() }
                return String(decoding: pending, as: UTF8.self)
            }
            pending.append(chunk)
        }
    }

    /// Reads lines until one equals `sentinel`; returns those before it (nil if the output ended first).
    public func readUntil(_ sentinel: String) async -> [String]? {
        var lines: [String] = []
        while let line = await readLine() {
            if line == sentinel { return lines }
            lines.append(line)
        }
        return nil
    }

    public func wait() async -> Int32 {
        closeInput()
        return await ProcessSpawner.wait(pid)
    }

    public func kill() { _ = Glibc.kill(pid, SIGTERM) }
}
