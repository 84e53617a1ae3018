import ArgumentParser
import Foundation
import SlipwayCore

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate slipway.yml: print every problem with file:line:column and key; exit 2 if any.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        do {
            let cfg = try ConfigLoader.load(path: global.configPath)
            print("\(cfg.file): ok — app \(cfg.app), root \(cfg.root)")
            for name in cfg.environmentNames {
                guard let e = cfg.environments[name] else { continue }
                print("  \(name): \(e.strategy.rawValue), \(e.process.instances) instance(s), router \(e.router.listen), health \(e.health.path)")
            }
        } catch {
            for p in error.problems { FileHandle.standardError.write(Data("\(p)\n".utf8)) }
            throw ExitCode(2)
        }
    }
}
