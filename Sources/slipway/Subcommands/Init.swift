import ArgumentParser
import Foundation
import SlipwayCore

/// `slipway init`: a commented slipway.yml for the project in this directory.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a commented slipway.yml for the project in this directory (a Swift package, Go module, Cargo crate or Node package is recognised); slipway check accepts it as written.")
    @Option(name: .long, help: "The app's name (default: this directory's name)") var app: String?
    @Option(name: .long, help: "Where to write it (default slipway.yml)") var config = "slipway.yml"
    @Flag(help: "Replace a slipway.yml that exists") var force = false

    func run() throws {
        let directory = FileManager.default.currentDirectoryPath
        let path = config.hasPrefix("/") ? config : directory + "/" + config
        if let app, !ReleaseVersion.isSimpleName(app) { throw SlipwayError(.usage, "--app: expected a name of a-z, 0-9 and '-', got '\(app)'") }
        if FileManager.default.fileExists(atPath: path), !force {
            throw SlipwayError(.usage, "\(path) exists; it is left as it is (--force replaces it)")
        }
        let kind = InitTemplate.Kind.detect(in: (path as NSString).deletingLastPathComponent)
        let name = app ?? InitTemplate.appName(directory)
        let text = InitTemplate.render(kind: kind, app: name)
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw SlipwayError(.failed, "cannot write \(path)", cause: error)
        }
        print("wrote \(path) for \(name) (\(kind == .other ? "no build system recognised: set release.files and process.command" : "a \(kind.rawValue) project"))")
        print("next: edit process.command and health.path, then `slipway check`, `slipway server`, `slipway release create v1`, `slipway deploy v1`")
    }
}
