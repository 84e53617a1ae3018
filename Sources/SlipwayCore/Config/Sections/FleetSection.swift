import Foundation
import Yams

/// `hosts:`, `fleet:` (per environment) and `ssh:` (top level): a fleet of hosts reached over OpenSSH.
enum FleetSection {
    /// `hosts: [web1, "deploy@10.0.0.3"]`: ssh destinations, each once.
    static func hosts(_ node: Node, reader: ConfigReader) -> [String]? {
        guard reader.stringList(node, "hosts") != nil, case .sequence(let items) = node else { return nil }
        var seen: Set<String> = []
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard let host = item.string else { continue }
            let node = item
            if host.hasPrefix("https://") || host.hasPrefix("http://") {
                if host.hasPrefix("http://") || !validHTTPSHost(host) {
                    reader.problem(node, "hosts[\(i)]", "expected https://HOST or https://HOST:PORT (the host daemon's --listen-tls), got '\(host)'")
                } else if !seen.insert(host).inserted {
                    reader.problem(node, "hosts[\(i)]", "'\(host)' is listed twice")
                } else {
                    out.append(host)
                }
            } else if host.isEmpty || host.hasPrefix("-") || host.contains(where: { $0.isWhitespace || $0 == "/" }) {
                reader.problem(node, "hosts[\(i)]", "expected an ssh destination like web1 or deploy@10.0.0.3, got '\(host)'")
            } else if !seen.insert(host).inserted {
                reader.problem(node, "hosts[\(i)]", "'\(host)' is listed twice")
            } else {
                out.append(host)
            }
        }
        if items.isEmpty { reader.problem(node, "hosts", "expected at least one ssh destination") }
        return out
    }

    /// `fleet: { strategy: rolling | all_at_once | canary, batch: N | P%, max_unavailable: N | P%, max_failed: N | P%, pause: 30s,
    /// on_failure: rollback | halt, healthy_deadline: 2m, progress_deadline: 10m, lease_ttl: 30s, canary: {…} }`.
    static func fleet(_ node: Node, reader: ConfigReader) -> FleetSettings {
        var fleet = FleetSettings()
        guard let entries = reader.mapping(node, "fleet", allowed: ["strategy", "batch", "on_failure", "healthy_deadline", "progress_deadline", "lease_ttl", "canary",
                                                                     "max_failed", "max_unavailable", "pause", "data"]) else { return fleet }
        for e in entries {
            switch e.key {
            case "strategy":
                guard let s = reader.string(e.value, "fleet.strategy") else { continue }
                if let known = FleetSettings.Strategy(rawValue: s) { fleet.strategy = known }
                else { reader.problem(e.value, "fleet.strategy", "expected one of: rolling, all_at_once, canary; got '\(s)'") }
            case "batch":
                fleet.batch = hostCount(e.value, "fleet.batch", min: 1, reader: reader) ?? fleet.batch
            case "max_unavailable":
                fleet.maxUnavailable = hostCount(e.value, "fleet.max_unavailable", min: 1, reader: reader) ?? fleet.maxUnavailable
            case "max_failed":
                fleet.maxFailed = hostCount(e.value, "fleet.max_failed", min: 0, reader: reader) ?? fleet.maxFailed
            case "pause":
                fleet.pause = reader.duration(e.value, "fleet.pause", allowZero: true) ?? fleet.pause
            case "on_failure":
                guard let s = reader.string(e.value, "fleet.on_failure") else { continue }
                if let known = FleetSettings.OnFailure(rawValue: s) { fleet.onFailure = known }
                else { reader.problem(e.value, "fleet.on_failure", "expected one of: rollback, halt; got '\(s)'") }
            case "canary":
                guard let c = reader.mapping(e.value, "fleet.canary", allowed: ["hosts", "promote", "analysis"]) else { continue }
                for entry in c {
                    switch entry.key {
                    case "hosts": fleet.canaryHosts = reader.int(entry.value, "fleet.canary.hosts", min: 1) ?? fleet.canaryHosts
                    case "analysis": fleet.canaryAnalysis = reader.duration(entry.value, "fleet.canary.analysis") ?? fleet.canaryAnalysis
                    default:
                        guard let promote = reader.string(entry.value, "fleet.canary.promote") else { continue }
                        if let known = FleetSettings.Promote(rawValue: promote) { fleet.canaryPromote = known }
                        else { reader.problem(entry.value, "fleet.canary.promote", "expected auto or manual, got '\(promote)'") }
                    }
                }
            case "data":
                guard let s = reader.string(e.value, "fleet.data") else { continue }
                if let known = FleetSettings.DataSteps(rawValue: s) { fleet.data = known }
                else { reader.problem(e.value, "fleet.data", "expected once (one database the hosts share) or each_host (a database on each host); got '\(s)'") }
            case "progress_deadline":
                fleet.progressDeadline = reader.duration(e.value, "fleet.progress_deadline") ?? fleet.progressDeadline
            case "lease_ttl":
                guard let d = reader.duration(e.value, "fleet.lease_ttl") else { continue }
                if d < .seconds(3) { reader.problem(e.value, "fleet.lease_ttl", "expected at least 3s (it is renewed every third of it), got \(DurationParsing.format(d))") }
                else { fleet.leaseTTL = d }
            default:
                fleet.healthyDeadline = reader.duration(e.value, "fleet.healthy_deadline") ?? fleet.healthyDeadline
            }
        }
        return fleet
    }

    /// A number of hosts (`2`) or a share of them (`"25%"`, 1 to 100).
    static func hostCount(_ node: Node, _ path: String, min: Int, reader: ConfigReader) -> HostCount? {
        if case .scalar(let s) = node, s.string.hasSuffix("%") {
            guard let p = Int(s.string.dropLast()), (1...100).contains(p) else {
                reader.problem(node, path, "expected a share from 1% to 100%, got '\(s.string)'")
                return nil
            }
            return .percent(p)
        }
        guard case .scalar = node, let n = node.int, n >= min else {
            reader.problem(node, path, "expected a number of hosts ≥ \(min) or a share like 25%, got \(reader.describe(node))")
            return nil
        }
        return .count(n)
    }

    /// `ssh: { config: FILE, slipway: PATH, max_parallel: N, keepalive: 5s }`.
    static func ssh(_ node: Node, directory: String, reader: ConfigReader) -> SSHSettings {
        var ssh = SSHSettings()
        guard let entries = reader.mapping(node, "ssh", allowed: ["config", "slipway", "max_parallel", "keepalive"]) else { return ssh }
        for e in entries {
            switch e.key {
            case "config":
                guard var path = reader.string(e.value, "ssh.config") else { continue }
                if path.hasPrefix("~/") { path = (ProcessInfo.processInfo.environment["HOME"] ?? "") + path.dropFirst() }
                else if !path.hasPrefix("/") { path = directory + "/" + path }
                guard FileManager.default.isReadableFile(atPath: path) else {
                    reader.problem(e.value, "ssh.config", "cannot read \(path); expected an ssh_config file (ssh -F)")
                    continue
                }
                ssh.config = path
            case "slipway":
                ssh.slipway = reader.string(e.value, "ssh.slipway") ?? ssh.slipway
            case "keepalive":
                guard let d = reader.duration(e.value, "ssh.keepalive") else { continue }
                if d < .seconds(1) { reader.problem(e.value, "ssh.keepalive", "expected at least 1s, got \(DurationParsing.format(d))") } else { ssh.keepAlive = d }
            default:
                ssh.maxParallel = reader.int(e.value, "ssh.max_parallel", min: 1, max: 1000) ?? ssh.maxParallel
            }
        }
        return ssh
    }

    /// `https://HOST[:PORT]` and nothing more.
    static func validHTTPSHost(_ text: String) -> Bool {
        guard let c = URLComponents(string: text), c.scheme == "https", let host = c.host, !host.isEmpty else { return false }
        return (c.path.isEmpty || c.path == "/") && c.query == nil && c.user == nil && c.port.map { (1...65535).contains($0) } ?? true
    }

    /// `https_hosts: { token_secret: SLIPWAY_HOST_TOKEN, ca: ca.pem }`.
    static func httpsHosts(_ node: Node, directory: String, reader: ConfigReader) -> HTTPSHostSettings {
        var settings = HTTPSHostSettings()
        guard let entries = reader.mapping(node, "https_hosts", allowed: ["token_secret", "ca"]) else { return settings }
        for e in entries {
            guard let value = reader.string(e.value, "https_hosts.\(e.key)") else { continue }
            if e.key == "ca" {
                let path = ConfigReader.absolute(value, root: directory)
                if FileManager.default.isReadableFile(atPath: path) { settings.ca = path }
                else { reader.problem(e.value, "https_hosts.ca", "cannot read \(path); expected the PEM certificate of the CA that signed the hosts' certificates") }
            } else if !ConfigReader.isSecretName(value) {
                reader.problem(e.value, "https_hosts.token_secret", "expected the name of an environment variable (like SLIPWAY_HOST_TOKEN), not the token itself")
            } else {
                settings.tokenSecret = value
            }
        }
        return settings
    }

    /// `state: { postgres: { url_secret: SLIPWAY_STATE_URL } }`.
    static func state(_ node: Node, reader: ConfigReader) -> SharedStateSettings {
        var state = SharedStateSettings()
        guard let entries = reader.mapping(node, "state", allowed: ["postgres"]), let pg = entries.first,
              let inner = reader.mapping(pg.value, "state.postgres", allowed: ["url_secret"]) else { return state }
        guard let secret = inner.first else {
            reader.problem(pg.value, "state.postgres.url_secret", "expected the name of the environment variable holding the PostgreSQL URL, like SLIPWAY_STATE_URL")
            return state
        }
        guard let name = reader.string(secret.value, "state.postgres.url_secret") else { return state }
        if !ConfigReader.isSecretName(name) {
            reader.problem(secret.value, "state.postgres.url_secret",
                           "expected the name of an environment variable (like SLIPWAY_STATE_URL), not the URL itself: a URL with its password does not belong in the config")
        } else {
            state.postgresURLSecret = name
        }
        return state
    }
}
