import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayEngine

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate slipway.yml: print every problem with file:line:column and key; exit 2 if any.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let cfg: SlipwayConfig
        switch Result(catching: { () throws(ConfigError) -> SlipwayConfig in try ConfigLoader.load(path: global.configPath) }) {
        case .success(let loaded): cfg = loaded
        case .failure(let error):
            for p in error.problems { FileHandle.standardError.write(Data("\(p)\n".utf8)) }
            throw ExitCode(2)
        }
        print("\(cfg.file): ok — app \(cfg.app), root \(cfg.root)")
        // Secrets as this shell sees them: the files in the root and this process's environment (the
        // daemon's environment may differ). Names and sources only, never values.
        let secrets = Secrets(root: cfg.root)
        for name in cfg.environmentNames {
            guard let e = cfg.environments[name] else { continue }
            print("  \(name): \(e.strategy.rawValue), \(e.process.instances) instance(s), router \(e.router.listen), health \(e.health.path)")
            print("    data: \(cfg.sharedDirectory(name))")
            var missing: [String] = []
            for n in e.secretNames {
                let source = secrets.source(of: n, environment: name)
                if source == nil { missing.append(n) }
                print("    secret \(n): " + (source.map { "from \($0)" } ?? "NOT SET"))
            }
            if !missing.isEmpty {
                print("    \(missing.count) secret(s) not set for \(name): \(missing.joined(separator: ", ")); add them to "
                      + "\(cfg.secretsDirectory)/\(name).env (or export them in the daemon's environment)")
            }
        }
    }
}
