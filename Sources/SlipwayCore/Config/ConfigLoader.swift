import Foundation
import Yams

/// Reads and validates `slipway.yml`. Unknown keys are errors; every problem names file, line, column and key.
public enum ConfigLoader {
    static let topLevelKeys = ["app", "root", "release", "server", "process", "health", "router", "strategy",
                               "keep_releases", "keep_warm", "environments", "backup", "migrate", "analysis", "hooks", "rolling", "watch", "canary", "windows", "freezes", "rollback_in_freeze", "promote_from", "soak", "approvals", "branches", "webhooks", "alerts", "notify", "autoscale", "logs", "accessories", "processes", "runtime", "hosts", "fleet", "ssh", "state", "https_hosts"]
    static let environmentKeys = ["process", "health", "router", "strategy", "keep_warm", "backup", "migrate", "analysis", "hooks", "rolling", "watch", "canary", "windows", "freezes", "rollback_in_freeze", "promote_from", "soak", "approvals", "branches", "order", "autoscale", "accessories", "processes", "runtime", "hosts", "fleet"]

    /// - Parameter root: the state directory, instead of the file's `root` (a fleet host keeps each app's state under its own root).
    public static func load(path: String, root override: String? = nil) throws(ConfigError) -> SlipwayConfig {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigError(problems: [
                ConfigProblem(file: path, line: 0, column: 0, path: "",
                              message: "cannot read the config file; create it or pass --config FILE (or set SLIPWAY_CONFIG)")
            ])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(problems: [ConfigProblem(file: path, line: 0, column: 0, path: "", message: "not UTF-8 text")])
        }
        return try parse(yaml: text, file: path, directory: url.deletingLastPathComponent().path, root: override)
    }

    public static func parse(yaml: String, file: String, directory: String, root override: String? = nil) throws(ConfigError) -> SlipwayConfig {
        let reader = ConfigReader(file: file)
        let rootNode: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ConfigError(problems: [ConfigProblem(file: file, line: 0, column: 0, path: "", message: "the file is empty; at least 'app' and 'process.command' are required")])
            }
            rootNode = node
        } catch let error as ConfigError {
            throw error
        } catch let error as YamlError {
            throw ConfigError(problems: [yamlProblem(error, file: file)])
        } catch {
            throw ConfigError(problems: [ConfigProblem(file: file, line: 0, column: 0, path: "", message: "invalid YAML: \(error)")])
        }
        guard let top = reader.mapping(rootNode, "", allowed: topLevelKeys) else { throw ConfigError(problems: reader.problems) }
        func value(_ key: String) -> Node? { top.first { $0.key == key }?.value }
        reader.sharedState = value("state") != nil

        var app = ""
        if let node = value("app"), let s = reader.string(node, "app") {
            if ReleaseVersion.isSimpleName(s) { app = s } else { reader.problem(node, "app", "expected a name of a-z, 0-9 and '-', got '\(s)'") }
        } else if value("app") == nil {
            reader.problem(rootNode, "app", "missing required key (the application's name, [a-z0-9-]+)")
        }

        var root = directory + "/.slipway"
        if let node = value("root"), let s = reader.string(node, "root") {
            root = s.hasPrefix("/") ? s : directory + "/" + s
        }
        if let override { root = override }
        root = URL(fileURLWithPath: root).standardizedFileURL.path

        var release = ReleaseSettings()
        if let node = value("release"), let entries = reader.mapping(node, "release", allowed: ["build", "files", "git"]) {
            for e in entries {
                switch e.key {
                case "build": release.build = reader.string(e.value, "release.build")
                case "git": release.git = WebhooksSection.gitSource(e.value, directory: directory, reader: reader)
                default: release.files = reader.stringList(e.value, "release.files") ?? []
                }
            }
        }
        let server = ServerSection.serverSettings(value("server"), directory: directory, reader: reader)
        var keepReleases = 5
        if let node = value("keep_releases"), let n = reader.int(node, "keep_releases", min: 2) { keepReleases = n }

        // Environments: each entry deep-merges over the top-level keys.
        var base: [(Node, Node)] = []
        if case .mapping(let m) = rootNode {
            base = m.filter { pair in environmentKeys.contains(pair.key.string ?? "") }.map { ($0.key, $0.value) }
        }
        let baseNode = Node.mapping(.init(base, .implicit, .any, rootNode.mark))
        var names: [String] = []
        var overrides: [String: Node] = [:]
        if let envNode = value("environments"), let entries = reader.mapping(envNode, "environments") {
            for e in entries {
                guard ReleaseVersion.isSimpleName(e.key) else {
                    reader.problem(e.keyNode, "environments.\(e.key)", "expected an environment name of a-z, 0-9 and '-'")
                    continue
                }
                names.append(e.key)
                overrides[e.key] = e.value
            }
            if entries.isEmpty { reader.problem(envNode, "environments", "expected at least one environment") }
        }
        if names.isEmpty { names = ["production"] }

        var environments: [String: EnvironmentConfig] = [:]
        for name in names {
            var merged = baseNode
            if let over = overrides[name] {
                let path = "environments.\(name)"
                if reader.mapping(over, path, allowed: environmentKeys) != nil, case .mapping = over {
                    merged = ConfigReader.merge(baseNode, over)
                }
            }
            if let env = environment(name: name, node: merged, root: root, directory: directory, reader: reader) { environments[name] = env }
        }
        // A fleet environment listens on its hosts, not here.
        sharedAddresses(names.compactMap { environments[$0] }.filter { $0.hosts.isEmpty }, nodes: overrides, root: rootNode, reader: reader)
        // Each environment runs its own accessories: two on one port would be one Redis for staging and production.
        var ports: [Int: String] = [:]
        for name in names {
            for a in environments[name]?.accessories ?? [] {
                guard let port = a.tcpPort else { continue }
                if let owner = ports[port] {
                    reader.problem(overrides[name] ?? rootNode, "environments.\(name).accessories.\(a.name).health.tcp",
                                   "port \(port) is \(owner)'s already; each environment runs its own accessory: give this one its own port and command")
                } else {
                    ports[port] = "\(name)/\(a.name)"
                }
            }
        }
        // One daemon talks to one router: every environment's routes go to the same edge, or none does.
        if let first = names.first, let edge = environments[first]?.router.edge ?? names.lazy.compactMap({ environments[$0]?.router.edge }).first {
            for name in names where environments[name]?.router.edge != edge {
                reader.problem(overrides[name] ?? rootNode, "environments.\(name).router.edge",
                               "every environment of an app registers with the same edge (\(edge)); set router.edge once at the top level")
            }
        }
        for name in names {
            guard let env = environments[name] else { continue }
            if let source = env.governance.promoteFrom, source == name || !names.contains(source) {
                let node = overrides[name].flatMap { o -> Node? in
                    if case .mapping(let m) = o { return m.first { $0.key.string == "promote_from" }?.value }
                    return nil
                }
                reader.problem(node ?? overrides[name] ?? rootNode, "environments.\(name).promote_from",
                               "expected another environment (\(names.filter { $0 != name }.joined(separator: ", "))), got '\(source)'")
            }
        }
        // `order:` sorts environments (status, gates, lists) and must agree with `promote_from`.
        for name in names {
            guard let env = environments[name], let source = env.governance.promoteFrom,
                  let mine = env.governance.order, let theirs = environments[source]?.governance.order, theirs >= mine else { continue }
            reader.problem(overrides[name] ?? rootNode, "environments.\(name).order",
                           "'\(name)' (order \(mine)) promotes from '\(source)' (order \(theirs)); a source environment comes earlier: give it a lower order")
        }
        names = names.enumerated().sorted { a, b in
            (environments[a.element]?.governance.order ?? Int.max, a.offset) < (environments[b.element]?.governance.order ?? Int.max, b.offset)
        }.map(\.element)
        let webhooks = value("webhooks").map { WebhooksSection.webhookList($0, environments: names, release: release, reader: reader) } ?? []
        if let target = release.git?.poll?.deployTo, !names.contains(target) {
            reader.problem(value("release") ?? rootNode, "release.git.poll.deploy_to", "expected one of the environments (\(names.joined(separator: ", "))), got '\(target)'")
        }
        let alerts = value("alerts").map { AlertsSection.alertList($0, reader: reader) } ?? []
        let notify = value("notify").map { NotifySection.notifyList($0, reader: reader) } ?? []
        var logRetention = Duration.seconds(30 * 86_400)
        if let node = value("logs"), let entries = reader.mapping(node, "logs", allowed: ["retention"]), let e = entries.first {
            logRetention = reader.duration(e.value, "logs.retention") ?? logRetention
        }
        let ssh = value("ssh").map { FleetSection.ssh($0, directory: directory, reader: reader) } ?? SSHSettings()
        let shared = value("state").map { FleetSection.state($0, reader: reader) } ?? SharedStateSettings()
        // With shared state a fleet's certificate is obtained once by its controller, not by every host's router.
        if shared.postgresURLSecret != nil {
            for (name, env) in environments where !env.hosts.isEmpty && env.router.tls?.acme != nil { environments[name]?.router.tls?.acme?.fleet = true }
        }
        let httpsHosts = value("https_hosts").map { FleetSection.httpsHosts($0, directory: directory, reader: reader) } ?? HTTPSHostSettings()
        if httpsHosts.tokenSecret == nil, let env = names.compactMap({ environments[$0] }).first(where: { $0.hosts.contains { $0.hasPrefix("https://") } }) {
            reader.problem(value("environments") ?? rootNode, "environments.\(env.name).hosts",
                           "a host listed as https://… is reached with a token: add https_hosts: { token_secret: NAME } (the environment variable holding it)")
        }
        if !reader.problems.isEmpty { throw ConfigError(problems: reader.problems) }
        var config = SlipwayConfig(file: file, directory: directory, app: app, root: root, release: release,
                                   keepReleases: keepReleases, environmentNames: names, environments: environments)
        config.server = server
        config.webhooks = webhooks
        config.alerts = alerts
        config.notify = notify
        config.logRetention = logRetention
        config.rootOverride = override
        config.ssh = ssh
        config.state = shared
        config.httpsHosts = httpsHosts
        return config
    }

    /// Environments may share a `router.listen` address when their `hosts` and `path` tell their requests
    /// apart; two that would claim the same requests are a problem naming both.
    static func sharedAddresses(_ envs: [EnvironmentConfig], nodes: [String: Node], root: Node, reader: ConfigReader) {
        // In the environments' order, so the problems come out the same every time.
        var addresses: [ListenAddress] = []
        var byAddress: [ListenAddress: [EnvironmentConfig]] = [:]
        var secure: [ListenAddress: (env: String, tls: Bool)] = [:]
        for env in envs {
            for (address, tls) in [(env.router.listen, false)] + (env.router.tls.map { [($0.listen, true)] } ?? []) {
                if let other = secure[address], other.tls != tls {
                    let key = tls ? "listen_tls" : "listen"
                    reader.problem(nodes[env.name] ?? root, "environments.\(env.name).router.\(key)",
                                   "\(address) is \(other.tls ? "HTTPS" : "plain HTTP") for environment '\(other.env)'; one address speaks one of them: pick another")
                    continue
                }
                secure[address] = secure[address] ?? (env.name, tls)
                if byAddress[address] == nil { addresses.append(address) }
                byAddress[address, default: []].append(env)
            }
        }
        for address in addresses {
            guard let sharing = byAddress[address], sharing.count > 1 else { continue }
            for c in RouteSelector.conflicts(sharing.map { ($0.name, $0.router.route ?? RouteMatch()) }) {
                let node = nodes[c.second] ?? root
                if c.host == "*" && c.path == "/" {
                    reader.problem(node, "environments.\(c.second).router.listen",
                                   "\(address) is already used by environment '\(c.first)'; give each environment its own address, or each its own router.hosts")
                } else {
                    reader.problem(node, "environments.\(c.second).router.hosts",
                                   "host \(c.host) with path \(c.path) on \(address) is claimed by environment '\(c.first)' too; a host and path belong to one environment")
                }
            }
        }
    }

    static func environment(name: String, node: Node, root: String, directory: String, reader: ConfigReader) -> EnvironmentConfig? {
        guard let entries = reader.mapping(node, "") else { return nil }
        func value(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
        let before = reader.problems.count

        var runtime = ContainerRuntime.process
        if let rnode = value("runtime"), let r = reader.string(rnode, "runtime") {
            if let known = ContainerRuntime(rawValue: r) { runtime = known }
            else { reader.problem(rnode, "runtime", "expected one of: process, podman, docker; got '\(r)'") }
        }
        var process: ProcessSettings?
        var processTypes: [ProcessTypeSettings] = []
        if let types = value("processes") {
            (process, processTypes) = ProcessTypesSection.processes(types, process: value("process"), runtime: runtime, reader: reader)
        } else {
            process = ProcessSection.process(value("process"), in: node, runtime: runtime, reader: reader)
        }
        let health = value("health").map { ProcessSection.health($0, reader: reader) } ?? HealthSettings()
        reader.fleetEnvironment = value("hosts") != nil
        let router = RouterSection.router(value("router"), directory: directory, root: root, environment: name, reader: reader)
        reader.fleetEnvironment = false
        var strategy = DeployStrategy.blueGreen
        if let snode = value("strategy"), let s = reader.string(snode, "strategy") {
            if let st = DeployStrategy(rawValue: s) { strategy = st }
            else { reader.problem(snode, "strategy", "expected one of: recreate, blue-green, rolling, canary; got '\(s)'") }
        }
        var keepWarm = Duration.seconds(600)
        if let k = value("keep_warm") { keepWarm = reader.duration(k, "keep_warm", allowZero: true) ?? keepWarm }

        let backup = value("backup").flatMap { BackupSection.backup($0, root: root, environment: name, reader: reader) }
        let migrate = value("migrate").flatMap { BackupSection.migrate($0, reader: reader) }
        let analysis = value("analysis").flatMap { AnalysisSection.analysis($0, reader: reader) }
        let hooks = value("hooks").flatMap { HooksSection.hooks($0, reader: reader) }
        let canary = value("canary").flatMap { CanarySection.canary($0, reader: reader) }
        let autoscale = value("autoscale").flatMap { AutoscaleSection.autoscale($0, reader: reader) }
        var governance = GovernanceSection.governance(windows: value("windows"), freezes: value("freezes"), rollbackInFreeze: value("rollback_in_freeze"), reader: reader)
        GovernanceSection.promotion(&governance, value: value, reader: reader)
        let rolling = value("rolling").map { ProcessSection.rolling($0, reader: reader) } ?? RollingSettings()
        let accessories = value("accessories").map { AccessoriesSection.accessories($0, runtime: runtime, reader: reader) } ?? []
        let hosts = value("hosts").flatMap { FleetSection.hosts($0, reader: reader) } ?? []
        let fleet = value("fleet").map { FleetSection.fleet($0, reader: reader) } ?? FleetSettings()

        guard reader.problems.count == before, let process else { return nil }
        var env = EnvironmentConfig(name: name, process: process, health: health, router: router, strategy: strategy, keepWarm: keepWarm)
        env.backup = backup
        env.migrate = migrate
        env.analysis = analysis
        env.hooks = hooks ?? HookSettings()
        env.rolling = rolling
        env.canary = canary ?? CanarySettings()
        env.autoscale = autoscale
        env.governance = governance
        if let w = value("watch") { env.watch = reader.duration(w, "watch", allowZero: true) ?? env.watch }
        env.accessories = accessories
        env.processTypes = processTypes
        env.hosts = hosts
        env.fleet = fleet
        var paths: [String: String] = [:]
        for t in processTypes {
            guard let path = t.route?.path else { continue }
            if env.router.tls != nil {
                reader.problem(value("processes"), "processes.\(t.name).route", "a routed process type over HTTPS (router.tls) is not in this version; serve \(path) from its own environment with router.path")
            }
            if let other = paths[path] { reader.problem(value("processes"), "processes.\(t.name).route.path", "\(path) is routed to \(other) already") }
            if let own = env.router.route?.path, path == own || !path.hasPrefix(own + "/") && own != "/" {
                reader.problem(value("processes"), "processes.\(t.name).route.path", "\(path) is outside this environment's router.path \(own); give a path under it")
            }
            paths[path] = t.name
        }
        if reader.problems.count > before { return nil }
        env.runtime = runtime
        return env
    }

    static func yamlProblem(_ error: YamlError, file: String) -> ConfigProblem {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigProblem(file: file, line: mark.line, column: mark.column, path: "", message: "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigProblem(file: file, line: context.mark.line, column: context.mark.column, path: "",
                                 message: "duplicate keys: \(duplicates.joined(separator: ", "))")
        default:
            return ConfigProblem(file: file, line: 0, column: 0, path: "", message: "invalid YAML: \(error)")
        }
    }
}
