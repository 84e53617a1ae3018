import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct Release: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage releases.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an immutable release from DIR, by running release.build and copying release.files, or from an image (runtime: podman | docker).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The release version (letters, digits, . _ - +)") var version: String
        @Option(help: "Copy this directory as the release") var from: String?
        @Option(help: "An image reference: pulled unless the runtime has it, then pinned to its id") var image: String?
        @Option(help: "A docker save / podman save archive: loaded, then pinned to its id") var imageArchive: String?
        @Flag(help: "Print JSON") var json = false

        func validate() throws {
            if [from, image, imageArchive].compactMap({ $0 }).count > 1 { throw ValidationError("give one of --from, --image or --image-archive") }
        }

        func run() async throws {
            let client = try global.client()
            func absolute(_ p: String?) -> String? { p.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 } }
            let info: ReleaseInfo = try await client.post("/v1/releases", ReleaseCreateRequest(version: version, from: absolute(from), image: image,
                                                                                               imageArchive: absolute(imageArchive), actor: DaemonClient.actor))
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
