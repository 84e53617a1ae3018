import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayEngine

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate slipway.yml: print every problem with file:line:column and key; exit 2 if any.",
        discussion: """
            Secrets are judged where they are used: with a daemon running for this root, `check` asks it where it \
            finds each name (its root's files and its own environment, names only); without one it reads the root's \
            files and this shell's environment, and says so.
            """)
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let cfg: SlipwayConfig
        switch Result(catching: { () throws(ConfigError) -> SlipwayConfig in try ConfigLoader.load(path: global.configPath) }) {
        case .success(let loaded): cfg = loaded
        case .failure(let error):
            for p in error.problems { FileHandle.standardError.write(Data("\(p)\n".utf8)) }
            throw ExitCode(2)
        }
        print("\(cfg.file): ok — app \(cfg.app), root \(cfg.root)")
        let (sources, judgedBy) = await secretSources(cfg)
        print("  secrets as \(judgedBy) sees them (names and sources only)")
        for name in cfg.environmentNames {
            guard let e = cfg.environments[name] else { continue }
            print("  \(name): \(e.strategy.rawValue), \(e.process.instances) instance(s), router \(e.router.edge.map { "on the edge \($0), " } ?? "")\(e.router.listen)\(e.router.tls.map { " https \($0.listen)" + ($0.redirect ? " (http redirects)" : "") } ?? "")\(e.router.route.map { " " + $0.summary } ?? ""), health \(e.health.path)")
            print("    data: \(cfg.sharedDirectory(name))")
            if e.runtime != .process { print("    runtime: \(e.runtime.rawValue) (releases are images: slipway release create V --image REF)") }
            for t in e.processTypes {
                let how = t.route.map { "routed \($0.path ?? "")" } ?? (t.singleton ? "singleton" : "\(t.process.instances) instance(s)")
                print("    process type \(t.name): \(how), stopped with \(t.stopSignal.rawValue) then \(DurationParsing.format(t.process.stopTimeout))")
            }
            for a in e.accessories { print("    accessory \(a.name): \(a.image.map { "image \($0)" } ?? "command")\(a.tcpPort.map { ", ready on tcp \($0)" } ?? "")") }
            for p in e.analysis?.providers ?? [] { print("    provider \(p.name): \(Self.transport(p))") }
            var missing: [String] = []
            for info in sources[name] ?? [] {
                if info.source == nil { missing.append(info.name) }
                print("    secret \(info.name): " + (info.source.map { "from \($0)" } ?? "NOT SET"))
            }
            if !missing.isEmpty {
                print("    \(missing.count) secret(s) not set for \(name): \(missing.joined(separator: ", ")); add them to "
                      + "\(cfg.secretsDirectory)/\(name).env (or export them in the daemon's environment)")
            }
        }
        for a in cfg.alerts { if let p = a.prometheus { print("  alert \(a.name): \(p.name): \(Self.transport(p))") } }
        // A running accessory started with other settings than the file's: applied only by `accessory restart`.
        if let client = daemon(cfg) {
            let listed = (try? await client.get("/v1/accessories", as: [AccessoryInfo].self)) ?? []
            for a in listed where a.drift {
                print("  accessory \(a.name) of \(a.environment): runs with other settings than this file's; slipway accessory restart \(a.name) --env \(a.environment) applies them")
            }
        }
    }

    /// A client of the daemon of this root, when its socket is there.
    private func daemon(_ cfg: SlipwayConfig) -> DaemonClient? {
        guard FileManager.default.fileExists(atPath: cfg.socketPath) else { return nil }
        return DaemonClient(socket: cfg.socketPath, token: global.token ?? ProcessInfo.processInfo.environment["SLIPWAY_TOKEN"])
    }

    /// The running daemon's view when one answers on this root's socket, else this shell's.
    private func secretSources(_ cfg: SlipwayConfig) async -> ([String: [SecretInfo]], String) {
        var wanted: [String: [String]] = [:]
        for name in cfg.environmentNames { wanted[name] = cfg.environments[name]?.secretNames ?? [] }
        var why = "no daemon runs for this root"
        if let client = daemon(cfg) {
            do {
                let answer: [String: [SecretInfo]] = try await client.post("/v1/secrets/sources", SecretSourcesRequest(environments: wanted))
                return (answer, "the running daemon (\(cfg.socketPath))")
            } catch {
                why = "the daemon did not answer: \(error.message)"
            }
        }
        return (Secrets(root: cfg.root).sources(of: wanted), "this shell (\(why); the daemon's own environment may differ)")
    }

    static func transport(_ p: ProviderSettings) -> String {
        let url: HTTPURL = switch p.source {
        case .prometheus(let u, _): u
        case .web(let u): u
        }
        guard url.tls else { return "plain HTTP" }
        return "HTTPS, certificate verified with " + (p.ca.map { "the CA in \($0)" } ?? "the system's trust roots")
    }
}
