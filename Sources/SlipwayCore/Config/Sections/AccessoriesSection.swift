import Foundation
import Yams

/// `accessories:` (at the top level, or an environment's own: environments deep-merge over the top level, so
/// staging can give its Redis another port).
enum AccessoriesSection {
    /// `runtime`: the environment's; an image accessory runs by it (podman when it is `process`).
    static func accessories(_ node: Node, runtime: ContainerRuntime, reader: ConfigReader) -> [AccessorySettings] {
        guard let entries = reader.mapping(node, "accessories") else { return [] }
        var list: [AccessorySettings] = []
        for e in entries {
            let path = "accessories.\(e.key)"
            guard ReleaseVersion.isSimpleName(e.key) else {
                reader.problem(e.keyNode, path, "expected an accessory name of a-z, 0-9 and '-'")
                continue
            }
            guard let fields = reader.mapping(e.value, path, allowed: ["command", "image", "args", "env", "health", "stop_timeout", "user", "group",
                                                                       "no_new_privileges", "limits"]) else { continue }
            var a = AccessorySettings(name: e.key, command: "")
            a.runtime = runtime == .process ? .podman : runtime
            for f in fields {
                let key = "\(path).\(f.key)"
                switch f.key {
                case "command": a.command = reader.command(f.value, key) ?? a.command
                case "image":
                    if let s = reader.string(f.value, key) {
                        if s.isEmpty || s.hasPrefix("-") || s.contains(where: \.isWhitespace) { reader.problem(f.value, key, "expected an image reference like nats:2.10, got '\(s)'") }
                        else { a.image = s }
                    }
                case "args": a.args = reader.stringList(f.value, key) ?? []
                case "env": a.env = reader.scalarMap(f.value, key) ?? [:]
                case "health":
                    for h in reader.mapping(f.value, key, allowed: ["tcp"]) ?? [] {
                        a.tcpPort = reader.int(h.value, "\(key).tcp", min: 1, max: 65_535)
                    }
                case "stop_timeout": a.stopTimeout = reader.duration(f.value, key) ?? a.stopTimeout
                default: ProcessSection.privilege(f.key, f.value, key, into: &a.privileges, reader: reader)
                }
            }
            if fields.contains(where: { $0.key == "command" }), let image = fields.first(where: { $0.key == "image" }) {
                reader.problem(image.keyNode, "\(path).image", "expected one of command: (a program on this host) or image: (a container), not both")
            }
            if let args = fields.first(where: { $0.key == "args" }), !fields.contains(where: { $0.key == "image" }) {
                reader.problem(args.keyNode, "\(path).args", "args: go with image: (a command: carries its own arguments)")
            }
            if !fields.contains(where: { $0.key == "command" || $0.key == "image" }) {
                reader.problem(e.value, "\(path).command", "missing required key (the command that runs the accessory, e.g. \"redis-server --port 6390 --dir $SLIPWAY_SHARED/redis\")")
            }
            list.append(a)
        }
        return list.sorted { $0.name < $1.name }
    }
}
