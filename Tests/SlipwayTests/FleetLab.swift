import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime

/// Fleet hosts on this machine for the fleet tests (`scripts/fleet-lab.sh`): network namespaces on a bridge,
/// each with its own sshd and `slipway server --host-only`; an app directory whose `slipway.yml` lists them.
final class FleetLab: Sendable {
    let dir: String
    let hosts: [(name: String, address: String)]
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        + "/scripts/fleet-lab.sh"

    /// Runs as root with sshd and iproute2 (scripts/test.sh installs them); else the tests say why they skip.
    static var canRun: Bool {
        TestServices.required || getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
    }
    static let skipNote = "needs root, openssh-server, iproute2 and python3 (scripts/test.sh installs them): the hosts are network namespaces with their own sshd"

    /// Runs `body` with `count` hosts, then takes them down (awaited), whether it threw or not.
    static func with(_ count: Int, sshd extra: String = "", _ body: (FleetLab) async throws -> Void) async throws {
        let lab = try await up(count, sshd: extra)
        do { try await body(lab) } catch {
            await lab.down()
            throw error
        }
        await lab.down()
    }

    /// Makes `count` hosts (h1…hN) and an app `shop` in `dir/app` deploying to them.
    static func up(_ count: Int, sshd extra: String = "") async throws -> FleetLab {
        let dir = "/tmp/slw-fleet-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let status = try await ProcessSpawner.run(argv: ["bash", script, "up", String(count), dir, TestBinaries.slipway, extra], directory: dir,
                                                  environment: ProcessInfo.processInfo.environment, logFile: dir + "/lab.log")
        guard status == 0 else {
            _ = try? await ProcessSpawner.run(argv: ["bash", script, "down", dir], directory: "/", environment: ProcessInfo.processInfo.environment, logFile: dir + "/lab.log")
            throw SlipwayError.failed("fleet-lab.sh up exited \(status): \((try? String(contentsOfFile: dir + "/lab.log", encoding: .utf8)) ?? "")")
        }
        let lines = try String(contentsOfFile: dir + "/hosts", encoding: .utf8).split(separator: "\n")
        return FleetLab(dir: dir, hosts: lines.map { l in let f = l.split(separator: " "); return (String(f[0]), String(f[1])) })
    }

    private init(dir: String, hosts: [(name: String, address: String)]) {
        self.dir = dir
        self.hosts = hosts
    }

    func down() async {
        _ = try? await ProcessSpawner.run(argv: ["bash", Self.script, "down", dir], directory: "/", environment: ProcessInfo.processInfo.environment,
                                          logFile: dir + "/lab.log")
        try? FileManager.default.removeItem(atPath: dir)
    }

    var app: String { dir + "/app" }

    /// Writes the app (a small Python server answering "hello from demo-app VERSION"; its health check fails on a
    /// host whose shared directory holds `refuse-VERSION`) and its `slipway.yml`.
    /// `top`: more top-level config (like `state:`).
    /// `hostList`: the `hosts:` entries (default: every host by its ssh name).
    /// `router`: the environment's router settings (default: plain HTTP on `port`).
    func writeApp(port: Int, fleet: String = "{ strategy: rolling, batch: 1, healthy_deadline: 30s }", top: String = "", hostList: [String]? = nil,
                  router: String? = nil) throws {
        try FileManager.default.createDirectory(atPath: app, withIntermediateDirectories: true)
        try """
            import os, http.server, time
            v = open("VERSION").read().strip()
            shared = os.environ.get("SLIPWAY_SHARED", "/nonexistent")
            bad = os.path.exists(os.path.join(shared, "refuse-" + v))
            if os.path.exists(os.path.join(shared, "slow-" + v)): time.sleep(4)
            flaky = os.path.exists(os.path.join(shared, "flaky-" + v))
            lag = os.path.exists(os.path.join(shared, "lag-" + v))
            served = [0]
            class H(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def do_GET(self):
                    code = 500 if bad and self.path.startswith("/health") else 200
                    if lag and not self.path.startswith("/health"): time.sleep(0.3)
                    if flaky and not self.path.startswith("/health"):
                        served[0] += 1
                        code = 500 if served[0] % 2 else 200
                    body = ("hello from demo-app " + v + " (fleet)").encode()
                    self.send_response(code); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
                def log_message(self, *a): pass
            http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
            """.write(toFile: app + "/app.py", atomically: true, encoding: .utf8)
        try """
            app: shop
            release:
              files: [app.py, VERSION]
            ssh:
              config: \(dir)/ssh_config
              slipway: \(TestBinaries.slipway)
              keepalive: 1s
            \(top)
            environments:
              production:
                hosts: [\((hostList ?? hosts.map(\.name)).map { "\"\($0)\"" }.joined(separator: ", "))]
                fleet: \(fleet)
                process: { command: "python3 app.py", instances: 1, stop_timeout: 2s }
                health: { path: /health, interval: 100ms, deadline: 5s, healthy_threshold: 2 }
                router: \(router ?? "{ listen: \"0.0.0.0:\(port)\", drain_timeout: 2s }")
            """.write(toFile: app + "/slipway.yml", atomically: true, encoding: .utf8)
    }

    /// `slipway …` in the app's directory: its exit status and everything it printed.
    func cli(_ args: [String], environment extra: [String: String] = [:]) async throws -> (status: Int32, text: String) {
        let out = dir + "/cli-\(UUID().uuidString.prefix(6)).out"
        let environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let status = try await ProcessSpawner.run(argv: [TestBinaries.slipway] + args, directory: app, environment: environment, logFile: out)
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }

    /// Starts `slipway …` in the app's directory without waiting: its pid and its output file.
    func start(_ args: [String], environment extra: [String: String] = [:]) throws -> (pid: Int32, log: String) {
        let out = dir + "/cli-\(UUID().uuidString.prefix(6)).out"
        let environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let child = try ProcessSpawner.spawn(argv: [TestBinaries.slipway] + args, directory: app, environment: environment, logFile: out)
        return (child.pid, out)
    }

    /// Builds and deploys `version` (its VERSION file written first).
    func deploy(_ version: String) async throws -> (status: Int32, text: String, outcome: FleetOutcomeView?) {
        try version.write(toFile: app + "/VERSION", atomically: true, encoding: .utf8)
        let r = try await cli(["deploy", version, "--json"])
        let json = r.text.range(of: "\n{").map { String(r.text[r.text.index(after: $0.lowerBound)...]) } ?? (r.text.hasPrefix("{") ? r.text : "")
        return (r.status, r.text, try? JSONDecoder().decode(FleetOutcomeView.self, from: Data(json.utf8)))
    }

    /// Makes `version` unhealthy on host `index` (0-based).
    func refuse(_ version: String, onHost index: Int) throws { try mark("refuse-" + version, onHost: index) }

    /// Makes `version` fail every other request (not its health check) on host `index` (0-based).
    func flaky(_ version: String, onHost index: Int) throws { try mark("flaky-" + version, onHost: index) }

    /// Makes `version` start 4 s late on host `index` (0-based).
    func slow(_ version: String, onHost index: Int) throws { try mark("slow-" + version, onHost: index) }
    /// `version` answers every request 300 ms late on host `index`.
    func lagging(_ version: String, onHost index: Int) throws { try mark("lag-" + version, onHost: index) }

    func mark(_ file: String, onHost index: Int) throws {
        let shared = "\(dir)/h\(index + 1)/root/apps/shop/state/shared/production"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        try "".write(toFile: shared + "/" + file, atomically: true, encoding: .utf8)
    }

    /// A filter for sshd's `ForceCommand` (Python): it runs the command the session asked for (`SSH_ORIGINAL_COMMAND`)
    /// with the session's HTTP requests passed through, except that a request whose head matches `pattern` (a bytes
    /// regex) gets the body `transform` (an expression of `body`) makes of it. `prelude`: imports and functions it uses.
    static func requestFilter(matching pattern: String, body transform: String, prelude: String = "") -> String {
        """
        import os, re, shlex, subprocess, sys
        \(prelude)
        child = subprocess.Popen(shlex.split(os.environ.get("SSH_ORIGINAL_COMMAND", "true")), stdin=subprocess.PIPE)
        src = sys.stdin.buffer
        while True:
            head = b""
            while not head.endswith(b"\\r\\n\\r\\n"):
                line = src.readline()
                if not line:
                    break
                head += line
            if not head.endswith(b"\\r\\n\\r\\n"):
                break
            length = re.search(rb"(?im)^content-length:\\s*(\\d+)", head)
            body = src.read(int(length.group(1))) if length else b""
            if re.match(rb"\(pattern)", head):
                body = \(transform)
                head = re.sub(rb"(?im)^content-length:\\s*\\d+", b"content-length: " + str(len(body)).encode(), head)
            child.stdin.write(head + body)
            child.stdin.flush()
        child.stdin.close()
        sys.exit(child.wait())
        """
    }

    /// Has host `index`'s sshd run `command` for every new session instead of the one asked for (`ForceCommand`; the
    /// asked one is in `SSH_ORIGINAL_COMMAND`). Before the first connection: a session keeps its sshd's config.
    func forceCommand(_ command: String, onHost index: Int) async throws {
        let h = "\(dir)/h\(index + 1)"
        let config = try String(contentsOfFile: h + "/sshd_config", encoding: .utf8)
        try (config + "\nForceCommand \(command)\n").write(toFile: h + "/sshd_config", atomically: true, encoding: .utf8)
        // A new sshd with the new config (a SIGHUP'd one could still answer a connection under the old one).
        let pid = pid_t(try String(contentsOfFile: h + "/sshd.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        kill(pid, SIGTERM)
        _ = try await poll(within: .seconds(20)) { kill(pid, 0) != 0 ? true : nil }
        let namespace = try String(contentsOfFile: dir + "/hosts", encoding: .utf8).split(separator: "\n")[index].split(separator: " ")[2]
        let started = try await ProcessSpawner.run(argv: ["ip", "netns", "exec", String(namespace), "/usr/sbin/sshd", "-f", h + "/sshd_config", "-E", h + "/sshd.log"],
                                                   directory: dir, environment: ProcessInfo.processInfo.environment, logFile: dir + "/lab.log")
        guard started == 0 else { throw SlipwayError.failed("sshd did not start again on \(hosts[index].name): see \(h)/sshd.log") }
        _ = try await poll(within: .seconds(20), every: .milliseconds(100)) { () async throws -> Bool? in
            try await ProcessSpawner.run(argv: ["ssh", "-F", dir + "/ssh_config", "-o", "BatchMode=yes", hosts[index].name, "true"], directory: dir,
                                         environment: ProcessInfo.processInfo.environment, logFile: dir + "/lab.log") == 0 ? true : nil
        }
    }

    /// Starts a shared edge (`slipway edge`) in host `index`'s network: control socket `<root>/edge.sock`, state `h<i>/edge`.
    func startEdge(_ index: Int) async throws {
        let h = "\(dir)/h\(index + 1)"
        let namespace = try String(contentsOfFile: dir + "/hosts", encoding: .utf8).split(separator: "\n")[index].split(separator: " ")[2]
        _ = try ProcessSpawner.spawn(argv: ["setsid", "nsenter", "--net=/run/netns/\(namespace)", TestBinaries.slipway, "edge", "--socket", h + "/root/edge.sock",
                                            "--state", h + "/edge"], directory: h, environment: ProcessInfo.processInfo.environment, logFile: h + "/edge.log")
        _ = try await poll(within: .seconds(20)) { () async -> Bool? in
            (try? await MiniHTTPClient().request("GET", .unix(path: h + "/root/edge.sock"), path: "/v1/health", timeout: .seconds(2)))?.status == 200 ? true : nil
        }
    }

    /// Starts host `index`'s host daemon again with `arguments` added (its apps' daemons keep running).
    func restartAgent(_ index: Int, _ arguments: [String]) async throws {
        let h = "\(dir)/h\(index + 1)"
        let pid = pid_t(try String(contentsOfFile: h + "/agent.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        kill(pid, SIGTERM)
        _ = try await poll(within: .seconds(20)) { kill(pid, 0) != 0 ? true : nil }
        let namespace = try String(contentsOfFile: dir + "/hosts", encoding: .utf8).split(separator: "\n")[index].split(separator: " ")[2]
        let child = try ProcessSpawner.spawn(argv: ["setsid", "nsenter", "--net=/run/netns/\(namespace)", TestBinaries.slipway, "server", "--host-only", "--root", h + "/root"] + arguments,
                                             directory: h, environment: ProcessInfo.processInfo.environment.merging(["CONTAINERS_STORAGE_CONF": h + "/storage.conf"]) { $1 },
                                             logFile: h + "/agent.log")
        try String(child.pid).write(toFile: h + "/agent.pid", atomically: true, encoding: .utf8)
        _ = try await poll(within: .seconds(20)) { () async -> Bool? in
            (try? await MiniHTTPClient().request("GET", .unix(path: h + "/root/slipway.sock"), path: "/v1/health", timeout: .seconds(2)))?.status == 200 ? true : nil
        }
    }

    /// Takes host `index`'s link down or up (its end of the bridge): its ssh connection stalls, its services keep running.
    func link(_ index: Int, up: Bool) async throws {
        let tag = try String(contentsOfFile: dir + "/tag", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let status = try await ProcessSpawner.run(argv: ["ip", "link", "set", "v\(tag)-\(index + 1)", up ? "up" : "down"], directory: "/",
                                                  environment: ProcessInfo.processInfo.environment, logFile: dir + "/lab.log")
        guard status == 0 else { throw SlipwayError.failed("ip link set exited \(status)") }
    }
}

/// The parts of `slipway deploy --json`'s fleet outcome the tests read.
struct FleetOutcomeView: Decodable {
    struct Host: Decodable {
        var host: String
        var state: String
        var current: String?
        var message: String
    }
    var state: String
    var phase: String
    var epoch: Int64
    var hosts: [Host]
    var message: String
}
