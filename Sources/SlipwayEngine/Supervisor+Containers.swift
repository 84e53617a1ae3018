import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// Image releases run as containers (`runtime: podman | docker`): the supervised process is the runtime's
/// `run` in the foreground (its output is the instance's log, its pid and start time identify the instance
/// across daemon restarts, as a process's do). The container is named for the app, environment, release and
/// slot, labelled with them, on the host network (it listens on PORT as a process would, so the health gate and
/// the router need nothing new), with `shared/<env>/` mounted at the same path, `memory_limit` as `--memory`,
/// and an init as PID 1 that passes signals on. Variables are passed by name only (`--env NAME`, the value from
/// the runtime's own environment): `ps` never shows a secret.
extension Supervisor {
    /// Starts `settings`' command for `release`: a process, or a container when the release is an image.
    /// `stopSignal`: what a container's stop sends first (a process type's `stop_signal`).
    func spawnRelease(_ settings: ProcessSettings, key: String, release: String, name: [String], environment vars: [String: String],
                      logFile: String, stopSignal: StopSignal? = nil) throws(SlipwayError) -> ProcessSpawner.Spawned {
        let dir = releases.path(release)
        guard FileManager.default.fileExists(atPath: dir) else { throw .notFound("release \(release) does not exist (slipway releases lists them)") }
        guard let image = ReleaseImage.read(releaseDirectory: dir) else {
            let argv = try CommandLineSplitter.split(settings.command, variables: vars)
            return try spawnConfined(settings.privileges, key: key, argv: argv, directory: dir, environment: vars, logFile: logFile)
        }
        let command = settings.command.trimmingCharacters(in: .whitespaces).isEmpty ? [] : try CommandLineSplitter.split(settings.command, variables: vars)
        return try spawnContainer(image.id, runtime: image.runtime, name: name, labels: ["release": release, "instance": vars["SLIPWAY_INSTANCE"] ?? ""],
                                  command: command, inside: Self.containerVariables(vars, declared: settings.env), memoryLimit: settings.memoryLimit, stopSignal: stopSignal, directory: dir, logFile: logFile)
    }

    /// What a container gets of `vars`: everything but the daemon's own passed-on variables (PATH, HOME, …: the
    /// image has its own), unless the config `declared` them.
    nonisolated static func containerVariables(_ vars: [String: String], declared: [String: String]) -> [String: String] {
        let daemons = daemonVariables()
        return vars.filter { daemons[$0.key] == nil || declared[$0.key] != nil }
    }

    /// `<runtime> run --rm --init` of `image` in the foreground: named `slipway-<app>-<name…>`, labelled with the app,
    /// `SLIPWAY_ENV` and `labels`, on the host network, `SLIPWAY_SHARED` mounted at its own path, `inside` passed by
    /// name (the values are in the client's environment only).
    func spawnContainer(_ image: String, runtime: ContainerRuntime, name: [String], labels: [String: String], command: [String], inside: [String: String],
                        memoryLimit: Int64?, stopSignal: StopSignal?, directory: String, logFile: String) throws(SlipwayError) -> ProcessSpawner.Spawned {
        let binary = runtime.binary ?? "podman"
        var argv = [binary, "run", "--rm", "--init", "--name", ReleaseImage.containerName([app] + name), "--network", "host"]
        if runtime == .podman { argv.append("--replace") }
        for (label, value) in [("app", app), ("environment", inside["SLIPWAY_ENV"] ?? "")] + labels.sorted(by: { $0.key < $1.key }) {
            argv += ["--label", "slipway.\(label)=\(value)"]
        }
        if let shared = inside["SLIPWAY_SHARED"] {
            do { try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true) } catch {
                throw SlipwayError(.internal, "cannot create the shared directory \(shared)", cause: error)
            }
            argv += ["--volume", "\(shared):\(shared)"]
        }
        if let memoryLimit { argv += ["--memory", "\(memoryLimit)b"] }
        if let stopSignal { argv += ["--stop-signal", stopSignal.rawValue] }
        for key in inside.keys.sorted() { argv += ["--env", key] }
        argv.append(image)
        argv += command
        return try ProcessSpawner.spawn(argv: argv, directory: directory, environment: Self.daemonVariables().merging(inside) { $1 }, logFile: logFile)
    }

    /// Starts a one-off command of `release` (a migration, a hook): a process in the release's directory, or, for an
    /// image release, a container of its image named for `task`; the image when it is one.
    func spawnInRelease(_ env: EnvironmentConfig, argv: [String], release: String, environment vars: [String: String], logFile: String,
                        task: [String]) throws(SlipwayError) -> (ProcessSpawner.Spawned, ReleaseImage?) {
        let dir = releases.path(release)
        guard let image = ReleaseImage.read(releaseDirectory: dir) else {
            return (try spawnApp(env, argv: argv, directory: dir, environment: vars, logFile: logFile), nil)
        }
        let child = try spawnContainer(image.id, runtime: image.runtime, name: task, labels: ["release": release, "task": task.last ?? ""], command: argv,
                                       inside: Self.containerVariables(vars, declared: env.process.env), memoryLimit: env.process.memoryLimit, stopSignal: nil, directory: dir, logFile: logFile)
        return (child, image)
    }

    /// Finds the cgroups of running instances' containers not found yet (`<runtime> inspect` for the main process,
    /// then its `/proc/PID/cgroup`), so `resources` reads what the container uses, not its runtime client.
    func findContainerCgroups(_ instances: [InstanceRecord], now: ContinuousClock.Instant) async {
        for i in instances where i.state == .running || i.state == .standby {
            guard let id = i.id, containerCgroups[id] == nil, cgroupLookups[id].map({ now - $0 >= .seconds(5) }) ?? true else { continue }
            cgroupLookups[id] = now  // a process release's instances too: its image.json is looked for every 5 s, not every pass
            guard let image = ReleaseImage.read(releaseDirectory: releases.path(i.release)), let binary = image.runtime.binary else { continue }
            let out = "\(logsDirectory)/.inspect-\(id)"
            defer { try? FileManager.default.removeItem(atPath: out) }
            let name = ReleaseImage.containerName([app, i.environment, i.release, String(i.slot)])
            guard (try? await ProcessSpawner.run(argv: [binary, "inspect", "--format", "{{.State.Pid}}", name], directory: "/",
                                                 environment: Self.daemonVariables(), logFile: out)) == 0,
                  let pid = Int32(((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
                  let cgroup = ContainerCgroup.of(pid: pid) else { continue }
            containerCgroups[id] = cgroup
        }
    }

    /// The runtime holding `release`'s image (nil: a directory release, run as processes).
    func containerRuntime(of release: String) -> ContainerRuntime? {
        ReleaseImage.read(releaseDirectory: releases.path(release))?.runtime
    }

    /// Stops what was started as `pid` (an instance, a process type's process, a drill's instance, an accessory):
    /// a container first through its runtime (`container`: its runtime and name; `stop --time`, so its PID 1 gets
    /// the signal and SIGKILL after `timeout`, then `rm --force`), then the process group, `first` and SIGKILL after
    /// `timeout` (5 s when a container's runtime client only has to exit).
    func stopStarted(pid: Int32, startTime: UInt64, container: (runtime: ContainerRuntime, name: [String])?, timeout: Duration,
                     first: Int32 = SIGTERM) async -> (stopped: Bool, killed: Bool) {
        if let container { await stopContainer(runtime: container.runtime, name: container.name, timeout: timeout) }
        return await ProcessGroup.stop(pid, startTime: startTime, timeout: container == nil ? timeout : .seconds(5), first: first)
    }

    /// `stop --time` and `rm --force` of the container named for `name`.
    func stopContainer(runtime: ContainerRuntime, name: [String], timeout: Duration) async {
        guard let binary = runtime.binary else { return }
        let container = ReleaseImage.containerName([app] + name)
        let seconds = String(max(1, Int(timeout.components.seconds)))
        let log = "\(logsDirectory)/containers.log"
        _ = try? await ProcessSpawner.run(argv: [binary, "stop", "--time", seconds, container], directory: "/", environment: Self.daemonVariables(), logFile: log)
        _ = try? await ProcessSpawner.run(argv: [binary, "rm", "--force", container], directory: "/", environment: Self.daemonVariables(), logFile: log)
    }
}
