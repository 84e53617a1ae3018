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

    public init(destination: String, settings: SSHSettings, scratch: String) {
        self.destination = destination
        self.settings = settings
        let tag = String(UInt64(bitPattern: Int64(destination.hashValue)) % 1_000_000_000, radix: 36)
        controlPath = "/tmp/slipway-ssh-\(getpid())-\(tag)"
        logFile = scratch + "/ssh-\(destination.replacingOccurrences(of: "/", with: "_")).log"
    }

    func arguments(_ extra: [String]) -> [String] {
        var argv = ["ssh"]
        if let config = settings.config { argv += ["-F", config] }
        argv += ["-o", "ControlPath=\(controlPath)", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                 "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3", "-o", "ConnectionAttempts=3"]
        return argv + extra
    }

    static var environment: [String: String] {
        let env = ProcessInfo.processInfo.environment
        return env.filter { ["PATH", "HOME", "USER", "LOGNAME", "SSH_AUTH_SOCK", "LANG"].contains($0.key) }
    }

    /// Opens the host's one connection (authenticates, then backgrounds); unreachable hosts fail here.
    public func connect() async throws(SlipwayError) {
        let status = try await ProcessSpawner.run(argv: arguments(["-o", "ControlMaster=yes", "-o", "ControlPersist=60", "-N", "-f", destination]),
                                                  directory: "/", environment: Self.environment, logFile: logFile)
        guard status == 0 else { throw SlipwayError(.unavailable, "cannot reach \(destination) over ssh (exit \(status)): \(lastMessage())") }
    }

    /// Closes the connection (`ssh -O exit`).
    public func disconnect() async {
        _ = try? await ProcessSpawner.run(argv: arguments(["-O", "exit", destination]), directory: "/", environment: Self.environment, logFile: logFile)
    }

    /// The last line ssh wrote, to say why a host is unreachable.
    func lastMessage() -> String {
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").last.map(String.init) ?? "no message"
    }

    /// One API call to the host daemon over the connection.
    public func request(_ method: String, _ path: String, body: [UInt8]?, contentType: String = "application/json",
                        timeout: Duration) async throws(SlipwayError) -> MiniHTTPClient.Response {
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
        defer {
            let pid = child.pid
            Task.detached {
                if await ProcessSpawner.wait(pid, timeout: .seconds(10)) == nil {
                    kill(pid, SIGKILL)
                    _ = await ProcessSpawner.wait(pid)
                }
            }
        }
        do {
            var headers: [(String, String)] = []
            if body != nil { headers.append(("Content-Type", contentType)) }
            return try await http.request(method, pipe: fromChild[0], toChild[1], describedAs: destination, path: path, headers: headers, body: body, timeout: timeout)
        } catch {
            throw SlipwayError(.unavailable, "\(destination): \(error) (\(lastMessage()))")
        }
    }
}
