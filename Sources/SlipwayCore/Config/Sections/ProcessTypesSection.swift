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
                    reader.problem(f.keyNode, key, "routing a second type by path is not in this version: the router serves the web type; give \(e.key) its own environment with router.path, or run it as web")
                default: break
                }
            }
            if e.key == ProcessTypeSettings.web {
                for f in fields where ["stop_signal", "singleton"].contains(f.key) {
                    reader.problem(f.keyNode, "\(path).\(f.key)", "the web type is health-gated and runs beside the next release during a deploy; \(f.key) is for the other types")
                }
                web = settings
            } else {
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
