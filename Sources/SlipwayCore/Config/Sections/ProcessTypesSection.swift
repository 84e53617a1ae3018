import Foundation
import Yams

/// `processes:`: the app's process types. `web` is the routed, health-gated one (what `process:` declares
/// alone); every other type runs unrouted beside it.
enum ProcessTypesSection {
    static let typeKeys = ProcessSection.keys + ["stop_signal", "singleton", "route"]

    /// The web type's settings and the other types, sorted by name; `process` is the environment's `process:` node.
    static func processes(_ node: Node, process: Node?, runtime: ContainerRuntime, reader: ConfigReader) -> (web: ProcessSettings?, types: [ProcessTypeSettings]) {
        if let process {
            reader.problem(process, "process", "both process: and processes: are set; keep one (processes.web is what process: declares)")
            return (nil, [])
        }
        guard let entries = reader.mapping(node, "processes") else { return (nil, []) }
        var web: ProcessSettings?
        var types: [ProcessTypeSettings] = []
        for e in entries {
            let path = "processes.\(e.key)"
            guard ReleaseVersion.isSimpleName(e.key) else {
                reader.problem(e.keyNode, path, "expected a process type name of a-z, 0-9 and '-', like web or worker")
                continue
            }
            guard let fields = reader.mapping(e.value, path, allowed: typeKeys) else { continue }
            let settings = ProcessSection.settings(fields, at: e.value, path: path, runtime: runtime, reader: reader)
            var type = ProcessTypeSettings(name: e.key, process: settings)
            for f in fields {
                let key = "\(path).\(f.key)"
                switch f.key {
                case "stop_signal":
                    guard let s = reader.string(f.value, key) else { continue }
                    if let signal = StopSignal(name: s) { type.stopSignal = signal }
                    else { reader.problem(f.value, key, "expected one of \(StopSignal.allCases.map(\.rawValue).joined(separator: ", ")), got '\(s)'") }
                case "singleton": type.singleton = reader.bool(f.value, key) ?? false
                case "route":
                    var path: String?
                    var strip = false
                    for r in reader.mapping(f.value, key, allowed: ["path", "strip_prefix"]) ?? [] {
                        if r.key == "strip_prefix" { strip = reader.bool(r.value, "\(key).strip_prefix") ?? false; continue }
                        guard let p = reader.string(r.value, "\(key).path") else { continue }
                        if !p.hasPrefix("/") || p == "/" || p.hasSuffix("/") || p.contains(" ") {
                            reader.problem(r.value, "\(key).path", "expected a path prefix like /api (not / itself: that is web's), got '\(p)'")
                        } else { path = p }
                    }
                    if let path { type.route = RouteMatch(path: path, stripPrefix: strip) }
                    else if reader.mapping(f.value, key, allowed: ["path", "strip_prefix"]) != nil { reader.problem(f.value, "\(key).path", "missing required key (the path prefix the router sends to \(e.key), like /api)") }
                default: break
                }
            }
            if e.key == ProcessTypeSettings.web {
                for f in fields where ["stop_signal", "singleton"].contains(f.key) {
                    reader.problem(f.keyNode, "\(path).\(f.key)", "the web type is health-gated and runs beside the next release during a deploy; \(f.key) is for the other types")
                }
                web = settings
            } else {
                if type.singleton, type.route != nil, let r = fields.first(where: { $0.key == "route" }) {
                    reader.problem(r.keyNode, "\(path).route", "a routed type runs its new processes beside the old ones during a deploy; a singleton cannot be routed")
                }
                if type.singleton, let n = fields.first(where: { $0.key == "instances" }), settings.instances != 1 {
                    reader.problem(n.value, "\(path).instances", "a singleton runs exactly one instance; got \(settings.instances)")
                }
                types.append(type)
            }
        }
        if web == nil, !entries.isEmpty {
            reader.problem(node, "processes.web", "missing required type (web is the one the router serves and gates on health; the others run beside it)")
        }
        return (web, types.sorted { $0.name < $1.name })
    }
}
