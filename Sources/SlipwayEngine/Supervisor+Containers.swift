import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// Image releases run as containers (`ContainerRunner`); this is where the supervisor picks a process or a
/// container for a release, finds a container's cgroup, and stops either.
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
        return try containers.run(image.id, runtime: image.runtime, name: name, labels: ["release": release, "instance": vars["SLIPWAY_INSTANCE"] ?? ""],
                                  command: command, inside: ContainerRunner.variables(vars, declared: settings.env), memoryLimit: settings.memoryLimit,
                                  stopSignal: stopSignal, directory: dir, logFile: logFile)
    }

    /// Starts a one-off command of `release` (a migration, a hook): a process in the release's directory, or, for an
    /// image release, a container of its image named for `task`; the image when it is one.
    func spawnInRelease(_ env: EnvironmentConfig, argv: [String], release: String, environment vars: [String: String], logFile: String,
                        task: [String]) throws(SlipwayError) -> (ProcessSpawner.Spawned, ReleaseImage?) {
        let dir = releases.path(release)
        guard let image = ReleaseImage.read(releaseDirectory: dir) else {
            return (try spawnApp(env, argv: argv, directory: dir, environment: vars, logFile: logFile), nil)
        }
        let child = try containers.run(image.id, runtime: image.runtime, name: task, labels: ["release": release, "task": task.last ?? ""], command: argv,
                                       inside: ContainerRunner.variables(vars, declared: env.process.env), memoryLimit: env.process.memoryLimit, stopSignal: nil,
                                       directory: dir, logFile: logFile)
        return (child, image)
    }

    /// Finds the cgroups of running instances' containers not found yet (`<runtime> inspect` for the main process,
    /// then its `/proc/PID/cgroup`), so `resources` reads what the container uses, not its runtime client.
    func findContainerCgroups(_ instances: [InstanceRecord], now: ContinuousClock.Instant) async {
        for i in instances where i.state == .running || i.state == .standby {
            guard let id = i.id, containerCgroups[id] == nil, cgroupLookups[id].map({ now - $0 >= .seconds(5) }) ?? true else { continue }
            cgroupLookups[id] = now  // a process release's instances too: its image.json is looked for every 5 s, not every pass
            guard let image = ReleaseImage.read(releaseDirectory: releases.path(i.release)),
                  let pid = await containers.mainPid(runtime: image.runtime, name: [i.environment, i.release, String(i.slot)],
                                                     scratch: "\(logsDirectory)/.inspect-\(id)"),
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
        if let container { await containers.stop(runtime: container.runtime, name: container.name, timeout: timeout) }
        return await ProcessGroup.stop(pid, startTime: startTime, timeout: container == nil ? timeout : .seconds(5), first: first)
    }
}
