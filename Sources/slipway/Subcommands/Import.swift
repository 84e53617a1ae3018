import ArgumentParser
import Foundation
import SlipwayCore

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a slipway.yml made from a docker compose file; what cannot be carried over is listed on stderr with its file and line.",
        discussion: "slipway import docker-compose.prod.yml > slipway.yml && slipway check")
    @Argument(help: "The compose file") var file: String
    @Option(help: "The environment to declare") var env = "production"
    @Option(help: "The app's name (default: the compose file's name:, else its directory's)") var app: String?

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
        let made = try ComposeImport.convert(yaml: String(decoding: data, as: UTF8.self), file: file, environment: env, app: app)
        print(made.yaml, terminator: "")
        for n in made.notes { FileHandle.standardError.write(Data("note: \(n)\n".utf8)) }
    }
}
