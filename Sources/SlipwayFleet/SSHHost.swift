import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime

/// One fleet host reached with the system's OpenSSH (so `~/.ssh/config`, ProxyJump, known_hosts and agents work as
/// users expect): `connect` opens one multiplexed connection (`ControlMaster`), and each API call is a session on
/// it running `slipway server dial-stdio` on the host, which bridges its stdin and stdout to the host daemon's
/// socket and exits when its stdin closes (no stale socket, no orphaned remote process). The master goes away
/// `ControlPersist` seconds after its last session, or at `disconnect`.
public struct SSHHost: Sendable {
    public let destination: String
    let settings: SSHSettings
    /// The master's socket (short: a unix socket path has a 108-byte limit).
    let controlPath: String
    /// Where ssh's own messages go (one file per host, for the error a user sees).
    let logFile: String
    let http = MiniHTTPClient()
    /// The kept session (every call in turn), shared by copies of this value.
    let sessions = SessionSlot()

    public init(destination: String, settings: SSHSettings, scratch: String) {
        self.destination = destination
        self.settings = settings
        controlPath = "/tmp/slipway-ssh-\(getpid())-\(Self.tag(destination))"
        logFile = scratch + "/ssh-\(destination.replacingOccurrences(of: "/", with: "_")).log"
    }

    /// A stable name for `destination` in the control socket's path (FNV-1a, 64 bits: one process never mixes two hosts up).
    static func tag(_ destination: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in destination.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }

    func arguments(_ extra: [String]) -> [String] {
        var argv = ["ssh"]
        if let config = settings.config { argv += ["-F", config] }
        argv += ["-o", "ControlPath=\(controlPath)", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                 "-o", "ServerAliveInterval=\(max(1, settings.keepAlive.components.seconds))", "-o", "ServerAliveCountMax=3", "-o", "ConnectionAttempts=3"]
        return argv + extra
    }

    static var environment: [String: String] {
        let env = ProcessInfo.processInfo.environment
        return env.filter { ["PATH", "HOME", "USER", "LOGNAME", "SSH_AUTH_SOCK", "LANG"].contains($0.key) }
    }

    /// Opens the host's one connection (authenticates, then backgrounds); unreachable hosts fail here. ssh retries a
    /// refused or timed-out TCP connection itself (`ConnectionAttempts=3`); a name that could not be resolved for now
    /// (the resolver's temporary failure) is tried again here, after 1 s and 2 s.
    public func connect() async throws(SlipwayError) {
        var status: Int32 = 0
        for attempt in 0..<3 {
            if attempt > 0 { try? await Task.sleep(for: .seconds(attempt)) }
            status = try await ProcessSpawner.run(argv: arguments(["-o", "ControlMaster=yes", "-o", "ControlPersist=60", "-N", "-f", destination]),
                                                  directory: "/", environment: Self.environment, logFile: logFile)
            guard status == 255, Self.isTemporaryResolutionFailure(lastMessage()) else { break }
        }
        guard status == 0 else { throw SlipwayError(.unavailable, "cannot reach \(destination) over ssh (exit \(status)): \(lastMessage())") }
    }

    /// ssh's message for a name the resolver could not look up for now (EAI_AGAIN), as against one that does not exist.
    static func isTemporaryResolutionFailure(_ message: String) -> Bool {
        message.contains("Could not resolve hostname") && message.contains("Temporary failure in name resolution")
    }

    /// Closes the kept session, then the connection (`ssh -O exit`).
    public func disconnect() async {
        await sessions.close()
        _ = try? await ProcessSpawner.run(argv: arguments(["-O", "exit", destination]), directory: "/", environment: Self.environment, logFile: logFile)
    }

    /// The last line ssh wrote, to say why a host is unreachable.
    func lastMessage() -> String {
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").last.map(String.init) ?? "no message"
    }

    /// One API call to the host daemon: on the host's kept session (one `dial-stdio` for every call in turn), or, when
    /// that one is busy (a lease renewal beside an activation), on a session of its own.
    public func request(_ method: String, _ path: String, body: [UInt8]?, contentType: String = "application/json",
                        timeout: Duration) async throws(SlipwayError) -> MiniHTTPClient.Response {
        var headers: [(String, String)] = []
        if body != nil { headers.append(("Content-Type", contentType)) }
        if let kept = try await sessions.take(opening: { () throws(SlipwayError) in try await self.openSession() }) {
            let started = ContinuousClock.now
            do {
                let r = try await kept.session.request(method, path: path, headers: headers, body: body, timeout: timeout)
                kept.session.release()
                return r
            } catch {
                kept.session.release()
                await sessions.drop(kept)
                // A kept session the far end closed while idle fails at once: every call is idempotent, so it goes
                // again on a session of its own. One that failed later (a timeout, a lost link) is the answer.
                guard ContinuousClock.now - started < .seconds(1) else { throw SlipwayError(.unavailable, "\(destination): \(error) (\(lastMessage()))") }
            }
        }
        let (child, input, output) = try spawnDialer()
        defer { Self.reap(child) }
        do {
            return try await http.request(method, pipe: input, output, describedAs: destination, path: path, headers: headers, body: body, timeout: timeout)
        } catch {
            throw SlipwayError(.unavailable, "\(destination): \(error) (\(lastMessage()))")
        }
    }

    /// A kept session: `ssh … slipway server dial-stdio` and HTTP keep-alive over its pipes.
    func openSession() async throws(SlipwayError) -> KeptSession {
        let (child, input, output) = try spawnDialer()
        do { return KeptSession(session: try await PipeSession(input: input, output: output, describedAs: destination), pid: child) } catch {
            Self.reap(child)
            throw SlipwayError(.unavailable, "\(destination): \(error) (\(lastMessage()))")
        }
    }

    /// Starts `ssh … slipway server dial-stdio` on the connection: its pid, the pipe to read its output from and the
    /// pipe to write its input to (both the caller's to close).
    func spawnDialer() throws(SlipwayError) -> (pid: Int32, input: Int32, output: Int32) {
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0]
        guard pipe(&toChild) == 0 else { throw SlipwayError(.internal, "cannot make a pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&fromChild) == 0 else {
            close(toChild[0]); close(toChild[1])
            throw SlipwayError(.internal, "cannot make a pipe: \(String(cString: strerror(errno)))")
        }
        // Children get only their stdin, stdout and stderr (ProcessSpawner closes every other descriptor in them).
        for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let log: Int32
        do { log = try ProcessSpawner.openLog(logFile) } catch {
            [toChild[0], toChild[1], fromChild[0], fromChild[1]].forEach { close($0) }
            throw error
        }
        let child: ProcessSpawner.Spawned
        do {
            child = try ProcessSpawner.spawn(argv: arguments(["-o", "ControlMaster=no", destination, settings.slipway, "server", "dial-stdio"]),
                                             directory: "/", environment: Self.environment, stdin: toChild[0], stdout: fromChild[1], stderr: log)
        } catch {
            [toChild[0], toChild[1], fromChild[0], fromChild[1], log].forEach { close($0) }
            throw error
        }
        [toChild[0], fromChild[1], log].forEach { close($0) }
        return (child.pid, fromChild[0], toChild[1])
    }

    /// Waits for an ssh client whose pipes were closed to exit (killed after 10 s), without holding the caller up.
    static func reap(_ pid: Int32) {
        Task.detached {
            if await ProcessSpawner.wait(pid, timeout: .seconds(10)) == nil {
                kill(pid, SIGKILL)
                _ = await ProcessSpawner.wait(pid)
            }
        }
    }
}

/// A host's kept session and its ssh client.
struct KeptSession: Sendable {
    let session: PipeSession
    let pid: Int32
}

/// The one kept session of a host: opened on first use, lent to one call at a time, dropped when it fails.
actor SessionSlot {
    var kept: KeptSession?
    var opening = false

    /// The kept session, lent to the caller (nil: it is busy, or being opened: use a session of your own).
    func take(opening open: @Sendable () async throws(SlipwayError) -> KeptSession) async throws(SlipwayError) -> KeptSession? {
        if let kept, kept.session.isOpen { return kept.session.acquire() ? kept : nil }
        if let stale = kept {
            kept = nil
            await stale.session.close()
            SSHHost.reap(stale.pid)
        }
        guard !opening else { return nil }
        opening = true
        defer { opening = false }
        let fresh = try await open()
        kept = fresh
        return fresh.session.acquire() ? fresh : nil
    }

    func drop(_ gone: KeptSession) async {
        if kept?.pid == gone.pid { kept = nil }
        await gone.session.close()
        SSHHost.reap(gone.pid)
    }

    func close() async {
        guard let kept else { return }
        self.kept = nil
        await kept.session.close()
        _ = await ProcessSpawner.wait(kept.pid, timeout: .seconds(5))
    }
}
