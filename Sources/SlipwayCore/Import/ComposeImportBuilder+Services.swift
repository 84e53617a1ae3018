import Foundation
import Yams

extension ComposeImportBuilder {
    mutating func readProcess(_ service: String, image: String?, fields: Node.Mapping, node: Node) {
        var p = ProcessOut(name: Self.simpleName(service) ?? "worker", service: service, image: image, node: node)
        for (k, v) in fields {
            let key = "services.\(service).\(k.string ?? "")"
            switch k.string ?? "" {
            case "image": break
            case "build":
                note(k, key, "Slipway runs images it was given: build it (docker build / podman build), save it, and make a release of it: slipway release create V --image-archive FILE (or --image REF)")
            case "command": p.command = argv(v, key)
            case "ports":
                if case .sequence(let items) = v { p.ports = items.map { let (a, b) = Self.port($0); return (a, b, $0) } }
            case "environment": p.secrets += secretNames(v, key)
            case "env_file": p.secrets += envFileNames(v, key)
            case "healthcheck": p.healthcheck = v
            case "deploy": readDeploy(v, key, into: &p)
            case "mem_limit": p.memory = memory(v, key)
            case "stop_grace_period":
                if let s = v.string, DurationParsing.parse(s) != nil { p.stopTimeout = s } else { note(v, key, "expected a duration like 30s") }
            case "stop_signal":
                if let s = v.string, let signal = StopSignal(name: s) { p.stopSignal = signal.rawValue } else { note(v, key, "Slipway stops with SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1 or SIGUSR2") }
            case "volumes":
                note(k, key, "Slipway mounts shared/<env>/ (SLIPWAY_SHARED) into every container, at the same path: keep what these volumes held there")
            default:
                let name = k.string ?? ""
                note(k, key, ComposeImport.unmapped[name] ?? "not carried over")
            }
        }
        var seen = Set<String>()
        p.secrets = p.secrets.filter { seen.insert($0).inserted }
        types.append(p)
    }

    mutating func readDeploy(_ node: Node, _ key: String, into p: inout ProcessOut) {
        guard case .mapping(let m) = node else { return }
        for (k, v) in m {
            switch k.string ?? "" {
            case "replicas": p.instances = v.string.flatMap { Int($0) }.map { min(max($0, 1), 64) }
            case "resources":
                if case .mapping(let r) = v, case .mapping(let limits)? = r.first(where: { $0.key.string == "limits" })?.value {
                    for (lk, lv) in limits {
                        if lk.string == "memory" { p.memory = memory(lv, "\(key).resources.limits.memory") }
                        else { note(lk, "\(key).resources.limits.\(lk.string ?? "")", "only the memory limit is carried over (memory_limit)") }
                    }
                    for (rk, _) in r where rk.string != "limits" { note(rk, "\(key).resources.\(rk.string ?? "")", "not carried over") }
                }
            default: note(k, "\(key).\(k.string ?? "")", "not carried over (Slipway deploys with its own strategy: blue-green by default)")
            }
        }
    }

    /// `512M`, `1g`, `256mb` as `512MiB`, `1GiB`, `256MiB`.
    mutating func memory(_ node: Node, _ key: String) -> String? {
        guard let s = node.string?.lowercased() else { return nil }
        let digits = s.prefix { $0.isNumber }
        let unit = s.dropFirst(digits.count).replacingOccurrences(of: "ib", with: "").replacingOccurrences(of: "b", with: "")
        let units = ["": "B", "k": "KiB", "m": "MiB", "g": "GiB"]
        guard let n = Int(digits), n > 0, let u = units[unit] else {
            note(node, key, "expected a size like 512M, got '\(s)'")
            return nil
        }
        return u == "B" ? "\(n)" : "\(n)\(u)"
    }

    /// The variables' names (a list of `NAME=value` or a mapping): values are never copied.
    mutating func secretNames(_ node: Node, _ key: String) -> [String] {
        var names: [String] = []
        switch node {
        case .sequence(let items): names = items.compactMap { $0.string?.split(separator: "=", maxSplits: 1).first.map(String.init) }
        case .mapping(let m): names = m.compactMap { $0.key.string }
        default: break
        }
        return filterNames(names, node, key)
    }

    mutating func filterNames(_ names: [String], _ node: Node, _ key: String) -> [String] {
        let good = names.filter(ConfigReader.isEnvName)
        let bad = names.filter { !ConfigReader.isEnvName($0) }
        if !bad.isEmpty { note(node, key, "not passed on: \(bad.joined(separator: ", ")) (Slipway passes UPPER_CASE names)") }
        return good
    }

    /// The names an `env_file` (or a list of them) defines, read beside the compose file.
    mutating func envFileNames(_ node: Node, _ key: String) -> [String] {
        let files: [String] = {
            if case .sequence(let items) = node { return items.compactMap { $0.string ?? $0.mapping?.first { $0.key.string == "path" }?.value.string } }
            return node.string.map { [$0] } ?? []
        }()
        var names: [String] = []
        let dir = URL(fileURLWithPath: file).deletingLastPathComponent().path
        for f in files {
            let path = f.hasPrefix("/") ? f : dir + "/" + f
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                note(node, key, "\(f) cannot be read: list its names under secrets: by hand")
                continue
            }
            for line in text.split(separator: "\n") {
                let t = line.trimmingCharacters(in: .whitespaces)
                guard !t.isEmpty, !t.hasPrefix("#"), let eq = t.firstIndex(of: "=") else { continue }
                names.append(String(t[..<eq]).replacingOccurrences(of: "export ", with: "").trimmingCharacters(in: .whitespaces))
            }
        }
        return filterNames(names, node, key)
    }

    mutating func readAccessory(_ service: String, image: String, defaultPort: Int, fields: Node.Mapping) {
        var a = AccessoryOut(name: Self.simpleName(service) ?? "accessory", image: image, port: defaultPort)
        for (k, v) in fields {
            let key = "services.\(service).\(k.string ?? "")"
            switch k.string ?? "" {
            case "image": break
            case "command": a.args = argv(v, key) ?? []
            case "ports":
                if case .sequence(let items) = v, let first = items.first, let target = Self.port(first).target { a.port = target }
            case "environment", "env_file":
                let names = k.string == "environment" ? secretNames(v, key) : envFileNames(v, key)
                if !names.isEmpty { note(k, key, "an accessory's variables are not copied (values never are): give them under accessories.\(a.name).env: \(names.joined(separator: ", "))") }
            case "volumes":
                note(k, key, "the accessory's data: point it into shared/<env>/ (SLIPWAY_SHARED is mounted at the same path), e.g. with args, so backup.sources cover it")
            case "healthcheck": note(k, key, "an accessory is ready while it accepts TCP on health.tcp (\(a.port.map(String.init) ?? "its port"))")
            default: note(k, key, ComposeImport.unmapped[k.string ?? ""] ?? "not carried over")
            }
        }
        accessories.append(a)
    }
}
