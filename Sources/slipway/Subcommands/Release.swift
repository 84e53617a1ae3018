import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct Release: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage releases.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an immutable release from DIR, or by running release.build and copying release.files.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The release version (letters, digits, . _ - +)") var version: String
        @Option(help: "Copy this directory as the release") var from: String?
        @Flag(help: "Print JSON") var json = false

        func run() async throws {
            let client = try global.client()
            var dir = from
            if let f = from, !f.hasPrefix("/") { dir = FileManager.default.currentDirectoryPath + "/" + f }
            let info: ReleaseInfo = try await client.post("/v1/releases", ReleaseCreateRequest(version: version, from: dir, actor: DaemonClient.actor))
            if json { Output.json(info); return }
            var line = "release \(info.version): \(info.files) file(s), \(info.bytes) bytes, \(info.digest)"
            if let git = info.gitSummary { line += ", git \(git)" }
            print(line)
        }
    }
}

struct Releases: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List retained releases.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let client = try global.client()
        let list: [ReleaseInfo] = try await client.get("/v1/releases")
        if json { Output.json(list); return }
        let status: [EnvironmentStatus] = try await client.get("/v1/status")
        var rows: [[String]] = []
        for r in list.reversed() {
            let git: String = r.gitSummary ?? "-"
            let serving: String = status.filter { $0.currentRelease == r.version }.map(\.name).joined(separator: ",")
            rows.append([r.version, Output.time(r.createdAt), r.creator, git, String(r.digest.prefix(19)), serving])
        }
        Output.table(["VERSION", "CREATED", "CREATOR", "GIT", "DIGEST", "SERVING"], rows)
    }
}
