import Foundation
import Yams

extension ComposeImportBuilder {
    /// The web type: the first service with a published port (else the first of the app's own); the router listens
    /// where it was published, and its healthcheck's URL becomes health.path.
    mutating func chooseWeb() throws(SlipwayError) {
        guard !types.isEmpty else { throw SlipwayError(.usage, "\(file): every service is a data store or broker (accessories); there is no service of the app's own to deploy") }
        let index = types.firstIndex { !$0.ports.isEmpty } ?? 0
        var web = types.remove(at: index)
        if web.name != ProcessTypeSettings.web {
            note(web.node, "services.\(web.service)", "this service is the web type (routed and health-gated)")
        }
        if let first = web.ports.first {
            if let published = first.published { listen = "0.0.0.0:\(published)" }
            note(first.node, "services.\(web.service).ports", "published as router.listen \(listen ?? "(default)"); the container listened on \(first.target.map(String.init) ?? "its port"): "
                 + "Slipway gives each instance its own PORT on the host network, so make it listen on $PORT")
        } else {
            note(web.node, "services.\(web.service)", "no service publishes a port: \(web.service) is the web type; make it answer HTTP on $PORT")
        }
        if let check = web.healthcheck { readHealth(check, "services.\(web.service).healthcheck") }
        web.name = ProcessTypeSettings.web
        types.insert(web, at: 0)
        var names = Set([ProcessTypeSettings.web])
        for i in types.indices.dropFirst() {
            var name = types[i].name == ProcessTypeSettings.web ? "web-2" : types[i].name
            while names.contains(name) { name += "-2" }
            names.insert(name)
            types[i].name = name
            for p in types[i].ports {
                note(p.node, "services.\(types[i].service).ports", "compose routes by port, Slipway by path: \(types[i].service) runs as process type \(name), unrouted, until you give it route: { path: /PREFIX } (it then gets a PORT, a health gate and that path on web's address)")
            }
            if let check = types[i].healthcheck { note(check, "services.\(types[i].service).healthcheck", "health checks of unrouted types are not in this version") }
        }
    }

    mutating func readHealth(_ node: Node, _ key: String) {
        guard case .mapping(let m) = node else { return }
        for (k, v) in m {
            let name = k.string ?? ""
            switch name {
            case "test":
                let text = (v.sequence?.compactMap(\.string) ?? [v.string ?? ""]).joined(separator: " ")
                if let r = text.range(of: #"https?://[^/\s"']+(/[^\s"'|;&]*)?"#, options: .regularExpression) {
                    let url = String(text[r])
                    let path = url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false).dropFirst(3).first.map { "/" + $0 } ?? "/"
                    health.append(("path", path))
                } else {
                    note(v, "\(key).test", "not an HTTP check: Slipway gates the web type on an HTTP GET of health.path (default /health/ready); set it")
                }
            case "interval", "timeout":
                if let s = v.string, DurationParsing.parse(s) != nil { health.append((name, s)) }
            case "retries": if let s = v.string, let n = Int(s), n >= 1 { health.append(("unhealthy_threshold", String(min(n, 100)))) }
            case "start_period": if let s = v.string, DurationParsing.parse(s) != nil { note(v, "\(key).start_period", "health.deadline (60s by default) is how long a new release may take to get ready") }
            case "disable": note(k, "\(key).disable", "the web type is always health-gated")
            default: note(k, "\(key).\(name)", "not carried over")
            }
        }
    }

    /// `word` as CommandLineSplitter reads it back: bare when safe, else single-quoted.
    static func quote(_ word: String) -> String {
        if !word.isEmpty, word.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./:=,@%+".contains($0)) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A YAML double-quoted string: `\\`, `\"` and control characters escaped.
    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f: out += String(format: "\\x%02X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    func render() -> String {
        var out = ["# Made by `slipway import` from \(URL(fileURLWithPath: file).lastPathComponent). Check it with `slipway check`;",
                   "# what could not be carried over is listed where the import printed its notes.",
                   "app: \(app)",
                   "runtime: podman                   # or docker: releases are images (slipway release create V --image REF | --image-archive FILE)",
                   "processes:"]
        for t in types {
            out.append("  \(t.name):   # service \(t.service)\(t.image.map { ", image \($0)" } ?? "")")
            if let command = t.command, !command.isEmpty { out.append("    command: \(Self.string(command.map(Self.quote).joined(separator: " ")))") }
            if let n = t.instances { out.append("    instances: \(n)") }
            if let m = t.memory { out.append("    memory_limit: \(m)") }
            if !t.secrets.isEmpty { out.append("    secrets: [\(t.secrets.joined(separator: ", "))]   # values: secrets/\(environment).env or the daemon's environment") }
            if let s = t.stopTimeout { out.append("    stop_timeout: \(s)") }
            if let s = t.stopSignal, t.name != ProcessTypeSettings.web { out.append("    stop_signal: \(s)") }
            if t.command == nil && t.instances == nil && t.memory == nil && t.secrets.isEmpty && t.stopTimeout == nil && (t.stopSignal == nil || t.name == ProcessTypeSettings.web) {
                out.append("    instances: 1")
            }
        }
        if !health.isEmpty {
            out.append("health:")
            for (k, v) in health { out.append("  \(k): \(k == "path" ? Self.string(v) : v)") }
        }
        if let listen { out.append("router:\n  listen: \(Self.string(listen))") }
        if !accessories.isEmpty {
            out.append("accessories:")
            for a in accessories {
                var fields = ["image: \(Self.string(a.image))"]
                if !a.args.isEmpty { fields.append("args: [\(a.args.map(Self.string).joined(separator: ", "))]") }
                if let port = a.port { fields.append("health: { tcp: \(port) }") }
                out.append("  \(a.name): { \(fields.joined(separator: ", ")) }")
            }
        }
        out.append("environments:\n  \(environment): {}")
        return out.joined(separator: "\n") + "\n"
    }
}
