import Foundation
import Logging
import SlipwayCore
import SlipwayHTTP

import SlipwayRuntime

/// Drives the router process (the data plane) over its control socket: starts it when absent,
/// re-adopts it when present, pushes tables, reads stats. Traffic never depends on the daemon.
public struct RouterController: Sendable {
    public let socket: String
    public let stateFile: String
    public let logFile: String
    public let executable: String
    /// Added to the router's command line (e.g. `--metrics HOST:PORT`).
    public let extraArguments: [String]
    /// `router.edge`: the app's name on the shared edge at `socket` (`slipway edge`), which this daemon neither
    /// starts, restarts nor stops; nil: the daemon's own router process.
    public let edgeApp: String?
    let client = MiniHTTPClient()

    public init(root: String, executable: String, extraArguments: [String] = [], edge: String? = nil, app: String = "") {
        self.extraArguments = extraArguments
        socket = edge ?? root + "/router.sock"
        edgeApp = edge == nil ? nil : app
        stateFile = root + "/router.json"
        logFile = root + "/logs/router.log"
        self.executable = executable
    }

    /// Where an app-scoped call goes: `/v1/apps/<app>/<what>` on the edge, `/v1/<what>` on the app's own router.
    func scoped(_ what: String) -> String { edgeApp.map { "/v1/apps/\($0)/\(what)" } ?? "/v1/\(what)" }

    /// The router's arguments (after the executable).
    var arguments: [String] { ["router", "--control", socket, "--state", stateFile] + extraArguments }

    public func isRunning() async -> Bool {
        (try? await client.request("GET", .unix(path: socket), path: "/v1/health", timeout: .seconds(2)))?.status == 200
    }

    /// The router process that last took the control socket (its pid file), while it runs.
    func recordedRouter() -> (pid: Int32, startTime: UInt64)? {
        guard let text = try? String(contentsOfFile: socket + ".pid", encoding: .utf8) else { return nil }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count == 2, let pid = Int32(parts[0]), let start = UInt64(parts[1]), start > 0,
              ProcessInspector.isAlive(pid: pid, startTime: start) else { return nil }
        return (pid, start)
    }

    /// Starts `slipway router` in its own session if it is not answering; waits until it answers.
    /// A router that runs but answers slowly (a loaded machine) is waited for, never doubled: a second one
    /// would take the control socket from the one holding the listeners. One that stays silent for 15 s is
    /// stopped and replaced.
    public func ensureRunning(logger: Logger) async throws(SlipwayError) {
        if await isRunning() { return }
        if edgeApp != nil {
            throw SlipwayError(.unavailable, "the shared edge does not answer on \(socket); start it (slipway edge, or its systemd unit) or drop router.edge to run this app's own router")
        }
        // A router of this root whose pid file is missing or stale (it is alive: its command line names our socket)
        // is waited for like a recorded one; what was found is logged, to explain a router that went away.
        let found = liveRouters()
        if FileManager.default.fileExists(atPath: socket) {
            let pidFile = (try? String(contentsOfFile: socket + ".pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "none"
            // The recorded router's exit status when this process reaped it (137: SIGKILL, 143: SIGTERM; none: not our child, or not reaped).
            let recordedPid = pidFile.split(separator: " ").first.flatMap { Int32($0) }
            let exit = recordedPid.flatMap { pid in ProcessInspector.reap(pid) ?? ProcessInspector.reapedStatus(pid) }.map(String.init) ?? "unknown"
            logger.error("the router does not answer; looking for it before starting one", metadata: [
                "router.pidfile": "\(pidFile)", "router.exit_status": "\(exit)", "router.recorded_alive": "\(recordedRouter() != nil)",
                "router.processes": "\(found.map { "\($0.pid)(\(Character(UnicodeScalar($0.state))))" }.joined(separator: ","))"])
        }
        if let running = recordedRouter() ?? found.first(where: { $0.state != UInt8(ascii: "Z") && $0.state != UInt8(ascii: "X") }).map({ ($0.pid, $0.startTime) }) {
            let deadline = ContinuousClock.now + .seconds(15)
            while ContinuousClock.now < deadline, ProcessInspector.isAlive(pid: running.pid, startTime: running.startTime) {
                if await isRunning() { return }
                try? await Task.sleep(for: .milliseconds(100))
            }
            if ProcessInspector.isAlive(pid: running.pid, startTime: running.startTime) {
                logger.warning("the router has not answered for 15s; stopping it and starting another", metadata: ["router.pid": "\(running.pid)"])
                ProcessInspector.signal(pid: running.pid, startTime: running.startTime, SIGKILL)
                let gone = ContinuousClock.now + .seconds(5)
                while ContinuousClock.now < gone, ProcessInspector.isAlive(pid: running.pid, startTime: running.startTime) {
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
        }
        let argv = [executable] + arguments
        let child = try ProcessSpawner.spawn(argv: argv, directory: (stateFile as NSString).deletingLastPathComponent,
                                             environment: ProcessInfo.processInfo.environment.filter { ["PATH", "HOME", "SWIFT_BACKTRACE"].contains($0.key) },
                                             logFile: logFile)
        logger.info("started router", metadata: ["router.pid": "\(child.pid)"])
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if await isRunning() { return }
            if !ProcessInspector.isAlive(pid: child.pid, startTime: child.startTime) {
                throw .failed("the router process exited at start; see \(logFile)\(Self.lastLines(of: logFile))")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        throw .failed("the router did not answer on \(socket) within 15s; see \(logFile)\(Self.lastLines(of: logFile))")
    }

    /// Router processes whose command line names this control socket (`router --control SOCKET`), with their state.
    func liveRouters() -> [(pid: Int32, startTime: UInt64, state: UInt8)] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let wanted = Data("--control\u{0}\(socket)\u{0}".utf8)
        var out: [(Int32, UInt64, UInt8)] = []
        for entry in entries {
            guard let pid = Int32(entry), let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  cmdline.range(of: wanted) != nil, let stat = ProcessInspector.stat(pid) else { continue }
            out.append((pid, stat.startTime, stat.state))
        }
        return out
    }

    /// The log's last lines, to say why in the error itself (the log may be gone when someone reads it).
    /// (What a router that went away wrote before it did, a crash's message among it, is in these lines too.)
    static func lastLines(of file: String, count: Int = 12) -> String {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return "" }
        let lines = text.split(separator: "\n").suffix(count)
        return lines.isEmpty ? "" : " (it says: " + lines.joined(separator: " | ").suffix(2400) + ")"
    }

    public func table() async throws(SlipwayError) -> RouteTable {
        let r = try await call("GET", scoped("table"))
        do { return try JSONDecoder().decode(RouteTable.self, from: Data(r.body)) } catch {
            throw SlipwayError(.internal, "the router sent an unreadable table", cause: error)
        }
    }

    public func push(_ table: RouteTable) async throws(SlipwayError) {
        let body = try SlipwayJSON.encode(table, with: JSONEncoder(), what: "the route table for the router")
        let r = try await call("PUT", scoped("table"), body: Array(body))
        // The edge refuses a host another app holds, or another user's app: a policy refusal (exit 3).
        if r.status == 403 { throw SlipwayError(.policy, Self.errorMessage(r.bodyText)) }
        guard r.status == 200 else { throw .failed("the router refused the table: \(Self.errorMessage(r.bodyText))") }
    }

    public func stats() async throws(SlipwayError) -> RouterStatsReport {
        let r = try await call("GET", scoped("stats"))
        return (try? JSONDecoder().decode(RouterStatsReport.self, from: Data(r.body))) ?? [:]
    }

    /// The certificates the router serves over HTTPS, as it loaded them.
    public func certificates() async throws(SlipwayError) -> [CertificateInfo] {
        let r = try await call("GET", scoped("certificates"))
        do { return try SlipwayJSON.decoder().decode([CertificateInfo].self, from: Data(r.body)) } catch {
            throw SlipwayError(.internal, "the router sent an unreadable certificate list", cause: error)
        }
    }

    /// Puts up or takes down a fleet controller's ACME challenge answer on the router (on the shared edge: for the
    /// hosts this app routes there only).
    public func challenge(_ answer: ChallengeAnswer) async throws(SlipwayError) {
        let body = try SlipwayJSON.encode(answer, with: JSONEncoder(), what: "the challenge answer")
        let r = try await call("POST", scoped("acme/challenges"), body: Array(body))
        if r.status == 403 { throw SlipwayError(.policy, Self.errorMessage(r.bodyText)) }
        guard r.status == 200 else { throw .failed("the router refused the challenge answer: \(Self.errorMessage(r.bodyText))") }
    }

    /// A fleet's certificate for `environment` handed to the shared edge, which keeps it in its own state (the app's
    /// user cannot write there) and serves it from the next handshake.
    public func installOnEdge(environment: String, _ install: CertificateInstall) async throws(SlipwayError) {
        let body = try SlipwayJSON.encode(install, with: JSONEncoder(), what: "the certificate")
        let r = try await call("PUT", scoped("certificates/\(environment)"), body: Array(body))
        if r.status == 403 { throw SlipwayError(.policy, Self.errorMessage(r.bodyText)) }
        guard r.status == 200 else { throw .failed("the edge refused the certificate: \(Self.errorMessage(r.bodyText))") }
    }

    /// Has the router load its certificate files again (one just written serves from the next handshake).
    public func reloadCertificates() async throws(SlipwayError) {
        let r = try await call("POST", scoped("certificates/reload"))
        guard r.status == 200 else { throw .failed("the router did not reload its certificates: \(Self.errorMessage(r.bodyText))") }
    }

    public func addresses() async throws(SlipwayError) -> [String: String] {
        let r = try await call("GET", scoped("addresses"))
        return (try? JSONDecoder().decode([String: String].self, from: Data(r.body))) ?? [:]
    }

    /// Restarts the router process without a gap: it hands its listening sockets to a new process started
    /// from `executable` (this daemon's binary, so an upgrade takes effect) and drains. Returns the new pid
    /// once the control socket answers from it.
    public func restart() async throws(SlipwayError) -> Int {
        if edgeApp != nil {
            throw SlipwayError(.usage, "this app's routes are on the shared edge at \(socket): restart the edge there (SIGHUP, or systemctl reload slipway-edge: a handover that refuses no connection)")
        }
        struct Handover: Encodable { var executable: String; var arguments: [String] }
        let body = try SlipwayJSON.encode(Handover(executable: executable, arguments: arguments), with: JSONEncoder(), what: "the handover request for the router")
        let r = try await call("POST", "/v1/handover", body: Array(body), timeout: .seconds(30))
        guard r.status == 200, let json = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any], let pid = json["pid"] as? Int else {
            throw .failed("the router did not restart: \(r.bodyText)")
        }
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if await servingPid() == pid { return pid }
            try? await Task.sleep(for: .milliseconds(20))
        }
        throw .failed("the new router (pid \(pid)) does not answer on \(socket); see \(logFile)")
    }

    /// Stops the router process (used by `slipway down` for the last environment and by the demo).
    public func stop(logger: Logger? = nil) async {
        // The shared edge serves other apps: never stopped by one app's daemon.
        guard edgeApp == nil, let pid = await servingPid() else { return }
        let start = ProcessInspector.startTime(Int32(pid)) ?? 0
        ProcessInspector.signal(pid: Int32(pid), startTime: start, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, ProcessInspector.isAlive(pid: Int32(pid), startTime: start) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        ProcessInspector.signal(pid: Int32(pid), startTime: start, SIGKILL)
        // Stopped on purpose: the next start finds no socket of a router that went away by itself.
        if !ProcessInspector.isAlive(pid: Int32(pid), startTime: start) {
            for file in [socket, socket + ".pid"] where unlink(file) != 0 && errno != ENOENT {
                logger?.warning("cannot remove the stopped router's file", metadata: ["router.file": "\(file)", "error": "\(String(cString: strerror(errno)))"])
            }
        }
    }

    /// The pid of the router process answering on the control socket now.
    func servingPid() async -> Int? {
        guard let r = try? await client.request("GET", .unix(path: socket), path: "/v1/health", timeout: .seconds(2)),
              let json = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] else { return nil }
        return json["pid"] as? Int
    }

    /// The `message` of a Hummingbird error body, else the body.
    static func errorMessage(_ body: String) -> String {
        struct Body: Decodable { struct E: Decodable { var message: String }; var error: E }
        return (try? JSONDecoder().decode(Body.self, from: Data(body.utf8)))?.error.message ?? body
    }

    private func call(_ method: String, _ path: String, body: [UInt8]? = nil, timeout: Duration = .seconds(10)) async throws(SlipwayError) -> MiniHTTPClient.Response {
        do {
            return try await client.request(method, .unix(path: socket), path: path,
                                            headers: body == nil ? [] : [("Content-Type", "application/json")], body: body, timeout: timeout)
        } catch {
            throw SlipwayError(.unavailable, "cannot reach the router on \(socket)", cause: error)
        }
    }
}
