import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayEngine
import SlipwayFleet
import SlipwayRuntime

/// An environment with `hosts:` is deployed by the CLI itself, host by host over ssh (`FleetDeploy`).
enum FleetCommand {
    /// The environment `--env` names (default: the only one, or production), when it lists `hosts`.
    static func environment(_ global: GlobalOptions, _ env: String?) -> (SlipwayConfig, EnvironmentConfig)? {
        guard global.serverAddress == nil, let cfg = try? global.load(), let e = try? cfg.environment(env), !e.hosts.isEmpty else { return nil }
        return (cfg, e)
    }

    /// A new fleet deployment's id: `fd-<seconds>-<random>`.
    static func newDeploymentId() -> String {
        "fd-" + String(Int(Date().timeIntervalSince1970)) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }

    /// The fleet deploy `id` of `version` to `env` by this operator on this machine, progress on stderr.
    static func fleetDeploy(_ cfg: SlipwayConfig, _ env: EnvironmentConfig, version: String, id: String, lockWait: Duration) -> FleetDeploy {
        let who = DaemonClient.actor.isEmpty ? NSUserName() : DaemonClient.actor
        var deploy = FleetDeploy(app: cfg.app, environment: env.name, version: version, digest: "", settings: env.fleet, maxParallel: cfg.ssh.maxParallel,
                                 actor: who, deployment: id, holder: "\(who)@\(ProcessInfo.processInfo.hostName) (pid \(getpid()), \(id))", log: say)
        deploy.lockWait = lockWait
        if let analysis = env.analysis, !analysis.rules.isEmpty || !analysis.providers.isEmpty { deploy.analysis = analysis }
        if env.analysis?.providers.isEmpty == false { deploy.readProviders = { await MetricProviders.readProviders(of: env) } }
        deploy.canaryInterval = max(.milliseconds(250), env.analysis?.interval ?? .seconds(1))
        // Only when there are data steps: otherwise the first host need not go alone.
        let dataSteps = env.migrate != nil || env.backup?.beforeDeploy == true || env.backup?.beforeRollback == true
        deploy.dataOnce = dataSteps && env.fleet.dataSteps(backup: env.backup) == .once
        return deploy
    }

    static let say: @Sendable (String) -> Void = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }

    /// Each host's client: over ssh, or for `https://HOST:PORT` over HTTPS with the token `https_hosts.token_secret` names.
    static func hosts(_ cfg: SlipwayConfig, _ env: EnvironmentConfig) throws -> [any FleetHost] {
        try? FileManager.default.createDirectory(atPath: cfg.logsDirectory, withIntermediateDirectories: true)
        return try env.hosts.map { destination throws -> any FleetHost in
            guard destination.hasPrefix("https://") else { return HostClient(SSHHost(destination: destination, settings: cfg.ssh, scratch: cfg.logsDirectory)) }
            let name = cfg.httpsHosts.tokenSecret ?? "https_hosts.token_secret"
            guard let token = ProcessInfo.processInfo.environment[name], !token.isEmpty else {
                throw SlipwayError.usage("https_hosts.token_secret: the environment variable \(name) is not set; export it with the hosts' token (their --token-file)")
            }
            return HostClient(try HTTPSHost(destination: destination, token: token, caFile: cfg.httpsHosts.ca))
        }
    }

    /// What `slipway deploy` was told for a fleet environment.
    struct Options {
        var version: String
        var json = false
        var lockWait: Duration = .zero
        var only: [String] = []
        var excludeUnreachable = false
        /// `--image REF` / `--image-archive FILE`: the release is made from this image (runtime: podman | docker).
        var image: String?
        var imageArchive: String?
        /// `resume ID` / `rollback ID`.
        var resume: String?
        var rollback: String?
    }

    /// A fleet deployment as this controller started it (`<root>/fleet/ID.json`, written before any host is asked).
    struct Record: Codable {
        var deployment: String
        var environment: String
        var version: String
        var hosts: [String]
    }

    static func deploy(_ cfg: SlipwayConfig, _ env: EnvironmentConfig, _ o: Options) async throws {
        var targets = env.hosts
        if !o.only.isEmpty {
            let unknown = o.only.filter { !env.hosts.contains($0) }
            guard unknown.isEmpty else { throw SlipwayError.usage("--hosts: \(unknown.joined(separator: ", ")) not in environments.\(env.name).hosts (\(env.hosts.joined(separator: ", ")))") }
            targets = env.hosts.filter { o.only.contains($0) }
        }
        try checkCertificateFiles(cfg, env)
        try await withShared(cfg) { shared in
            let recordDir = cfg.root + "/fleet"
            var version = o.version, id = newDeploymentId()
            if let given = o.resume ?? o.rollback {
                guard given.hasPrefix("fd-"), !given.contains("/") else { throw SlipwayError.usage("expected a fleet deployment id like fd-1796611499-168z9z6, got '\(given)'") }
                id = given
                if o.resume != nil {
                    let r = try await startedRecord(id, shared: shared, directory: recordDir)
                    version = r.version
                    if o.only.isEmpty { targets = r.hosts.filter { env.hosts.contains($0) } }
                }
            }
            let all = try hosts(cfg, env)
            let chosen = all.filter { targets.contains($0.name) }
            // Without shared state the lease lives on the environment's first host, whatever this deploy targets.
            let leaseHost = shared == nil ? all[0] : nil
            var deploy = fleetDeploy(cfg, env, version: version, id: id, lockWait: o.lockWait)
            deploy.excludeUnreachable = o.excludeUnreachable
            let kind: FleetDeploymentRecord.Kind = o.rollback != nil ? .revert : o.resume != nil ? .resume : .deploy
            let record = FleetDeploymentRecord(id: id, environment: env.name, version: version, kind: kind, actor: deploy.actor, holder: deploy.holder, hosts: targets)
            let outcome: FleetOutcome
            if o.rollback != nil {
                say("fleet rollback of \(id) in \(env.name) on \(chosen.count) host(s)")
                outcome = try await journaled(shared, record, deploy) { await $0.rollback(hosts: chosen, leaseHost: leaseHost) }
            } else {
                let (release, image) = try await Self.release(cfg, env, version: version, image: o.image, imageArchive: o.imageArchive)
                defer { if let image { try? FileManager.default.removeItem(atPath: image.archive) } }
                deploy.image = image
                let artifact = try await archive(cfg, release)
                let yaml: String
                do { yaml = try String(contentsOfFile: cfg.file, encoding: .utf8) } catch { throw SlipwayError(.usage, "cannot read \(cfg.file)", cause: error) }
                deploy.digest = release.digest
                if shared == nil { try saveRecord(Record(deployment: id, environment: env.name, version: version, hosts: targets), directory: recordDir) }
                say("fleet deployment \(id): \(version) (\(release.digest.prefix(19))…) to \(env.name) on \(chosen.count) host(s), \(env.fleet.strategy.rawValue)")
                // Once the hosts' routers run, a certificate the fleet obtains (router.tls: acme) can be proven by any of them:
                // on the deploy's own connections when it goes to every host, else on connections of its own after.
                let everyHost = chosen.count == all.count
                if let shared, everyHost, fleetCertificateNames(env) != nil {
                    deploy.afterActivation = { hosts, _ in
                        do { try await ensureCertificate(cfg, env, shared: shared, connected: hosts) } catch { say("warning: the fleet's certificate: \(error)") }
                    }
                }
                outcome = try await journaled(shared, record, deploy) { await $0.run(hosts: chosen, leaseHost: leaseHost, config: yaml, artifact: artifact) }
                if let shared, !everyHost, outcome.state != .refused, outcome.phase == .activate || outcome.phase == .revert {
                    try await ensureCertificate(cfg, env, shared: shared)
                }
            }
            try report(outcome, json: o.json)
        }
    }

    /// `slipway rollback [VERSION]` on a fleet environment: VERSION (default: the release every host served before its
    /// current one) must be on every host; then each switches back through its own health gate, batch by batch.
    static func rollback(_ cfg: SlipwayConfig, _ env: EnvironmentConfig, version: String?, lockWait: Duration, json: Bool,
                         withData: Bool = false, yes: Bool = false) async throws {
        let all = try hosts(cfg, env)
        var target = version
        if target == nil {
            var previous: [String: String?] = [:]
            for host in all {
                do {
                    try await host.connect()
                    let e = try await host.status().environments.first { $0.app == cfg.app && $0.name == env.name }
                    previous[host.name] = e?.previous
                } catch {
                    await host.disconnect()
                    throw SlipwayError(.unavailable, "cannot ask \(host.name) what it served before (\(error)); nothing changed")
                }
                await host.disconnect()
            }
            let distinct = Set(previous.values.map { $0 ?? "" })
            guard distinct.count == 1, let only = distinct.first, !only.isEmpty else {
                let said = env.hosts.map { "\($0): \((previous[$0] ?? nil) ?? "none")" }.joined(separator: ", ")
                throw SlipwayError.failed("the hosts do not share one previous release (\(said)); name the release: slipway rollback VERSION")
            }
            target = only
        }
        let id = newDeploymentId()
        var deploy = fleetDeploy(cfg, env, version: target!, id: id, lockWait: lockWait)
        deploy.rollbackTo = true
        if withData { deploy.dataRollback = try await confirmDataRollback(cfg, env, all, version: target!, json: json, yes: yes) }
        try await withShared(cfg) { shared in
            say("fleet rollback \(id): \(env.name) to \(target!) on \(all.count) host(s)")
            let record = FleetDeploymentRecord(id: id, environment: env.name, version: target!, kind: .rollback, actor: deploy.actor, holder: deploy.holder, hosts: env.hosts)
            let outcome = try await journaled(shared, record, deploy) { await $0.run(hosts: all, config: "", artifact: []) }
            try report(outcome, json: json)
        }
    }

    /// The outcome as a table per host and a last line (or JSON), and its exit code.
    static func report(_ outcome: FleetOutcome, json: Bool) throws {
        if json { Output.json(outcome) } else {
            Output.table(["HOST", "STATE", "SERVING", "MESSAGE"], outcome.hosts.map { [$0.host, $0.state.rawValue, $0.current ?? "-", $0.message] })
            print("\(outcome.state.rawValue): \(outcome.message)")
        }
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }

    /// The release in the controller's own release store, built there first when it is not (`release.build`, `release.files`).
    static func localRelease(_ cfg: SlipwayConfig, version: String) async throws -> ReleaseInfo {
        let store = ReleaseStore(directory: cfg.releasesDirectory)
        if let existing = store.info(version) { return existing }
        if let build = cfg.release.build {
            try? FileManager.default.createDirectory(atPath: cfg.logsDirectory, withIntermediateDirectories: true)
            let argv = try CommandLineSplitter.split(build, variables: ProcessInfo.processInfo.environment)
            let log = "\(cfg.logsDirectory)/build-\(version).log"
            let status = try await ProcessSpawner.run(argv: argv, directory: cfg.directory, environment: ProcessInfo.processInfo.environment, logFile: log)
            guard status == 0 else { throw SlipwayError.failed("release.build exited with status \(status); see \(log)") }
        }
        guard !cfg.release.files.isEmpty else { throw SlipwayError.usage("nothing to put in release \(version): set release.files in \(cfg.file)") }
        let info = try store.create(version: version, source: cfg.directory, files: cfg.release.files, creator: DaemonClient.actor,
                                    git: ReleaseStore.gitProvenance(of: cfg.directory))
        FileHandle.standardError.write(Data("release \(version): built, \(info.files) file(s), \(info.digest.prefix(19))…\n".utf8))
        return info
    }

    /// The release as a gzipped tar (its manifest left out: a host writes its own).
    static func archive(_ cfg: SlipwayConfig, _ release: ReleaseInfo) async throws -> [UInt8] {
        try? FileManager.default.createDirectory(atPath: cfg.logsDirectory, withIntermediateDirectories: true)
        let out = "\(cfg.logsDirectory)/.artifact-\(release.version)-\(getpid()).tar.gz"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let dir = ReleaseStore(directory: cfg.releasesDirectory).path(release.version)
        let status = try await ProcessSpawner.run(argv: ["tar", "-C", dir, "--exclude=./\(ReleaseStore.manifestName)", "-czf", out, "."], directory: dir,
                                                  environment: ProcessInfo.processInfo.environment, logFile: out + ".log")
        defer { try? FileManager.default.removeItem(atPath: out + ".log") }
        guard status == 0, let data = FileManager.default.contents(atPath: out) else { throw SlipwayError.failed("cannot pack release \(release.version) (tar exited \(status))") }
        return Array(data)
    }
}

struct Fleet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A fleet environment's hosts (environments.NAME.hosts).", subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each host's release, health and epoch, and whether they differ (drift).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var envOption: EnvOption
        @Flag(help: "Print JSON") var json = false

        struct Row: Codable {
            var host: String
            var reachable: Bool
            var current: String?
            var healthy: Bool
            var epoch: Int64
            var error: String?
        }

        struct Report: Codable {
            var environment: String
            var drift: Bool
            var hosts: [Row]
        }

        func run() async throws {
            let cfg = try global.load()
            let env = try cfg.environment(envOption.env), name = env.name
            guard !env.hosts.isEmpty else { throw SlipwayError.usage("--env \(name): not an environment with hosts: in \(cfg.file)") }
            let hosts = try FleetCommand.hosts(cfg, env)
            var rows: [Row] = []
            for host in hosts {
                do {
                    try await host.connect()
                    let status = try await host.status()
                    let e = status.environments.first { $0.app == cfg.app && $0.name == name }
                    rows.append(Row(host: host.name, reachable: true, current: e?.current, healthy: e?.healthy ?? false, epoch: e?.epoch ?? 0))
                } catch {
                    rows.append(Row(host: host.name, reachable: false, current: nil, healthy: false, epoch: 0, error: "\(error)"))
                }
                await host.disconnect()
            }
            let drift = Set(rows.map { $0.current ?? "" }).count > 1 || rows.contains { !$0.reachable }
            let report = Report(environment: name, drift: drift, hosts: rows)
            if json { Output.json(report); return }
            Output.table(["HOST", "RELEASE", "HEALTHY", "EPOCH", "CONTACT"], rows.map {
                [$0.host, $0.current ?? "-", $0.healthy ? "yes" : "no", String($0.epoch), $0.reachable ? "ok" : "unreachable: " + ($0.error ?? "")]
            })
            print(drift ? "drift: the hosts do not all serve one release" : "uniform")
        }
    }
}
