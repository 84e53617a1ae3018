import Foundation
import SlipwayCore
import SlipwayRuntime

/// Runs image releases' instances, process types, one-off tasks and image accessories as containers
/// (`runtime: podman | docker`): the supervised process is the runtime's `run` in the foreground (its output is
/// the log, its pid and start time identify it across daemon restarts, as a process's do; the runtime's own
/// configuration variables, like `CONTAINERS_STORAGE_CONF`, are passed on to it). A container is named
/// `slipway-<app>-<name…>` and labelled with the app, environment and `labels`, on the host network (it listens
/// on PORT as a process would, so the health gate and the router need nothing new), with `shared/<env>/` mounted
/// at the same path, `memory_limit` as `--memory`, and an init as PID 1 that passes signals on. Variables are
/// passed by name only (`--env NAME`, the value from the runtime client's own environment): `ps` never shows a
/// secret.
struct ContainerRunner: Sendable {
    /// The app's name: every container is named and labelled with it.
    let app: String
    /// Where `stop`, `rm` and `inspect` write what they print.
    let logsDirectory: String

    /// What `run` is started with, besides the environment: `<runtime> run --rm --init` of `image`, then `command`.
    /// `inside` gives the names passed with `--env` (never a value).
    func runArguments(_ image: String, runtime: ContainerRuntime, name: [String], labels: [String: String], command: [String],
                      inside: [String: String], memoryLimit: Int64?, stopSignal: StopSignal?) -> [String] {
        var argv = [runtime.binary ?? "podman", "run", "--rm", "--init", "--name", ReleaseImage.containerName([app] + name), "--network", "host"]
        if runtime == .podman { argv.append("--replace") }
        for (label, value) in [("app", app), ("environment", inside["SLIPWAY_ENV"] ?? "")] + labels.sorted(by: { $0.key < $1.key }) {
            argv += ["--label", "slipway.\(label)=\(value)"]
        }
        if let shared = inside["SLIPWAY_SHARED"] { argv += ["--volume", "\(shared):\(shared)"] }
        if let memoryLimit { argv += ["--memory", "\(memoryLimit)b"] }
        if let stopSignal { argv += ["--stop-signal", stopSignal.rawValue] }
        for key in inside.keys.sorted() { argv += ["--env", key] }
        return argv + [image] + command
    }

    /// Starts `image` in the foreground (`runArguments`), the values of `inside` in the runtime client's environment.
    func run(_ image: String, runtime: ContainerRuntime, name: [String], labels: [String: String], command: [String], inside: [String: String],
             memoryLimit: Int64?, stopSignal: StopSignal?, directory: String, logFile: String) throws(SlipwayError) -> ProcessSpawner.Spawned {
        if let shared = inside["SLIPWAY_SHARED"] {
            do { try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true) } catch {
                throw SlipwayError(.internal, "cannot create the shared directory \(shared)", cause: error)
            }
        }
        let argv = runArguments(image, runtime: runtime, name: name, labels: labels, command: command, inside: inside, memoryLimit: memoryLimit, stopSignal: stopSignal)
        return try ProcessSpawner.spawn(argv: argv, directory: directory, environment: ImageRuntime.variables().merging(inside) { $1 }, logFile: logFile)
    }

    /// What a container gets of `vars`: everything but the daemon's own passed-on variables (PATH, HOME, …: the
    /// image has its own), unless the config `declared` them.
    static func variables(_ vars: [String: String], declared: [String: String]) -> [String: String] {
        let daemons = Supervisor.daemonVariables()
        return vars.filter { daemons[$0.key] == nil || declared[$0.key] != nil }
    }

    /// `stop --time` (its PID 1 gets the stop signal, SIGKILL after `timeout`) and `rm --force` of the container named for `name`.
    func stop(runtime: ContainerRuntime, name: [String], timeout: Duration) async {
        guard let binary = runtime.binary else { return }
        let container = ReleaseImage.containerName([app] + name)
        let seconds = String(max(1, Int(timeout.components.seconds)))
        let log = "\(logsDirectory)/containers.log"
        _ = try? await ProcessSpawner.run(argv: [binary, "stop", "--time", seconds, container], directory: "/", environment: ImageRuntime.variables(), logFile: log)
        _ = try? await ProcessSpawner.run(argv: [binary, "rm", "--force", container], directory: "/", environment: ImageRuntime.variables(), logFile: log)
    }

    /// The host pid of the running container named for `name` (`inspect`), nil when it does not run.
    func mainPid(runtime: ContainerRuntime, name: [String], scratch: String) async -> Int32? {
        guard let binary = runtime.binary else { return nil }
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        guard (try? await ProcessSpawner.run(argv: [binary, "inspect", "--format", "{{.State.Pid}}", ReleaseImage.containerName([app] + name)], directory: "/",
                                             environment: ImageRuntime.variables(), logFile: scratch)) == 0,
              let pid = Int32(((try? String(contentsOfFile: scratch, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else { return nil }
        return pid
    }
}
