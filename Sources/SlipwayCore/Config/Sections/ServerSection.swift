import Foundation
import Yams

/// `server:`: the daemon's own settings.
enum ServerSection {
    /// `server: { listen: HOST:PORT, tls: { cert: FILE, key: FILE }, cgroup: DIR }`. Without TLS only a loopback address is
    /// accepted: a token must never cross a network in clear text.
    static func serverSettings(_ node: Node?, directory: String, reader: ConfigReader) -> ServerSettings {
        var server = ServerSettings()
        guard let node, let entries = reader.mapping(node, "server", allowed: ["listen", "tls", "cgroup"]) else { return server }
        var listenNode: Node?
        for e in entries {
            switch e.key {
            case "listen":
                guard let text = reader.string(e.value, "server.listen") else { continue }
                guard let address = ListenAddress(parsing: text), address.port > 0 else {
                    reader.problem(e.value, "server.listen", "expected HOST:PORT, got '\(text)'")
                    continue
                }
                server.listen = address
                listenNode = e.value
            case "cgroup":
                guard let dir = reader.string(e.value, "server.cgroup") else { continue }
                var isDirectory: ObjCBool = false
                guard dir.hasPrefix("/"), FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                    reader.problem(e.value, "server.cgroup", "expected the absolute path of a cgroup v2 directory delegated to Slipway (e.g. /sys/fs/cgroup/system.slice/slipway.service), got '\(dir)'")
                    continue
                }
                server.cgroup = dir
            default:
                if let files = reader.tlsFiles(e.value, "server.tls", directory: directory) { server.tls = files }
            }
        }
        if let address = server.listen, let listenNode, !address.isLoopback,
           !entries.contains(where: { $0.key == "tls" }) {
            reader.problem(listenNode, "server.listen", "\(address) is not a loopback address: tokens would cross the network in clear text; "
                           + "add server.tls: { cert: FILE, key: FILE }, or listen on 127.0.0.1")
            server.listen = nil
        }
        return server
    }
}
