import Foundation
import Yams

/// `process:` (the command an instance runs and how), `health:` (its gate) and `rolling:` (batches).
enum ProcessSection {
    /// `process:` of an environment; `parent` is the environment's node (where a missing key is reported).
    static let keys = ["command", "instances", "env", "secrets", "stop_timeout", "memory_limit", "user", "group", "no_new_privileges", "limits"]

    /// `process:` of an environment; `parent` is the environment's node (where a missing key is reported).
    static func process(_ node: Node?, in parent: Node, runtime: ContainerRuntime, reader: ConfigReader) -> ProcessSettings? {
        if let pnode = node, let p = reader.mapping(pnode, "process", allowed: keys) {
            return settings(p, at: pnode, path: "process", runtime: runtime, reader: reader)
        } else if node == nil, runtime != .process {
            return ProcessSettings(command: "")  // the image's own command
        } else if node == nil {
            reader.problem(parent, "process", "missing required key (process.command starts one instance of the app; processes: declares several types)")
        }
        return nil
    }

    /// The keys `process:` and each of `processes:` share, at `path` (`process`, `processes.worker`).
    /// With a container `runtime`, `command` is optional (the image's own), and `user`/`group` are the image's.
    static func settings(_ p: [(key: String, keyNode: Node, value: Node)], at pnode: Node, path prefix: String, runtime: ContainerRuntime,
                         reader: ConfigReader) -> ProcessSettings {
        var settings = ProcessSettings(command: "")
        for e in p {
            let path = "\(prefix).\(e.key)"
            switch e.key {
            case "command": settings.command = reader.command(e.value, path) ?? settings.command
            case "instances": settings.instances = reader.int(e.value, path, min: 1, max: 64) ?? 1
            case "env": settings.env = reader.scalarMap(e.value, path) ?? [:]
            case "secrets":
                let list = reader.stringList(e.value, path) ?? []
                for s in list where !ConfigReader.isEnvName(s) {
                    reader.problem(e.value, path, "expected environment variable names like DATABASE_URL, got '\(s)'")
                }
                settings.secrets = list
            case "memory_limit":
                if case .scalar(let sc) = e.value, let bytes = ByteSize.parse(sc.string), bytes > 0 { settings.memoryLimit = bytes }
                else { reader.problem(e.value, path, "expected a size like 512MiB or 2GiB, got \(reader.describe(e.value))") }
            case "user", "group", "no_new_privileges", "limits":
                if runtime != .process, e.key == "user" || e.key == "group" {
                    reader.problem(e.keyNode, path, "with runtime: \(runtime.rawValue) the container runs as its image's user; set it in the image (USER), not here")
                }
                privilege(e.key, e.value, path, into: &settings.privileges, reader: reader)
            case "stop_timeout": settings.stopTimeout = reader.duration(e.value, path) ?? .seconds(10)
            default: break  // the caller's own keys
            }
        }
        if p.first(where: { $0.key == "command" }) == nil, runtime == .process {
            reader.problem(pnode, "\(prefix).command", "missing required key (the command that starts one instance, e.g. \"./app --port $PORT\")")
        }
        return settings
    }

    /// `user`, `group`, `no_new_privileges` or `limits` of a process or an accessory, at `path`.
    static func privilege(_ key: String, _ node: Node, _ path: String, into p: inout ProcessPrivileges, reader: ConfigReader) {
        switch key {
        case "user", "group":
            guard let s = reader.string(node, path) else { return }
            guard ProcessPrivileges.isAccountName(s) else {
                reader.problem(node, path, "expected a \(key) name like app or a number like 1001, got '\(s)'")
                return
            }
            if key == "user" { p.user = s } else { p.group = s }
        case "no_new_privileges": p.noNewPrivileges = reader.bool(node, path) ?? true
        default:
            for l in reader.mapping(node, path, allowed: ["nofile", "nproc"]) ?? [] {
                let value = reader.int(l.value, "\(path).\(l.key)", min: l.key == "nofile" ? 16 : 1, max: 1 << 22)
                if l.key == "nofile" { p.nofile = value } else { p.nproc = value }
            }
        }
    }

    static func health(_ node: Node, reader: ConfigReader) -> HealthSettings {
        var health = HealthSettings()
        if let h = reader.mapping(node, "health", allowed: ["path", "live", "interval", "timeout", "healthy_threshold", "unhealthy_threshold", "deadline"]) {
            for e in h {
                let path = "health.\(e.key)"
                switch e.key {
                case "path", "live":
                    if let s = reader.string(e.value, path) {
                        if !s.hasPrefix("/") { reader.problem(e.value, path, "expected a path starting with '/', got '\(s)'") }
                        else if e.key == "path" { health.path = s } else { health.live = s }
                    }
                case "interval": health.interval = reader.duration(e.value, path) ?? health.interval
                case "timeout": health.timeout = reader.duration(e.value, path) ?? health.timeout
                case "healthy_threshold": health.healthyThreshold = reader.int(e.value, path, min: 1, max: 100) ?? 2
                case "unhealthy_threshold": health.unhealthyThreshold = reader.int(e.value, path, min: 1, max: 100) ?? 3
                default: health.deadline = reader.duration(e.value, path) ?? health.deadline
                }
            }
        }
        return health
    }

    static func rolling(_ node: Node, reader: ConfigReader) -> RollingSettings {
        var rolling = RollingSettings()
        if let r = reader.mapping(node, "rolling", allowed: ["batch", "max_surge"]) {
            for e in r {
                if e.key == "batch" { rolling.batch = reader.int(e.value, "rolling.batch", min: 1, max: 64) ?? rolling.batch }
                else { rolling.maxSurge = reader.int(e.value, "rolling.max_surge", min: 0, max: 64) ?? rolling.maxSurge }
            }
        }
        return rolling
    }
}
