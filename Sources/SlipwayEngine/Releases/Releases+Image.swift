import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// Image releases (`slipway release create V --image REF | --image-archive FILE`): the runtime named by the
/// config (`runtime: podman | docker`) loads or pulls the image, and the release pins its id; the release's
/// directory holds only `image.json`, so its digest names the image.
extension Releases {
    func pin(_ request: ReleaseCreateRequest, config cfg: SlipwayConfig) async throws(SlipwayError) -> ReleaseImage {
        let runtimes = Set(cfg.environmentNames.compactMap { cfg.environments[$0]?.runtime }.filter { $0 != .process })
        guard let runtime = runtimes.first, let binary = runtime.binary else {
            throw .usage("an image release needs runtime: podman or runtime: docker in \(cfg.file)")
        }
        guard runtimes.count == 1 else { throw .usage("environments use both podman and docker; an image release is held by one of them") }
        let log = "\(cfg.logsDirectory)/image-\(request.version).log"
        var reference: String
        if let archive = request.imageArchive {
            guard FileManager.default.fileExists(atPath: archive) else { throw .usage("--image-archive \(archive): no such file") }
            let loaded = try await run([binary, "load", "--input", archive], log: log, what: "loading \(archive)")
            // podman: "Loaded image: REF" (or "Loaded image(s): REF,REF"); docker: "Loaded image: REF" or "Loaded image ID: sha256:…".
            guard let line = loaded.split(separator: "\n").last(where: { $0.hasPrefix("Loaded image") }),
                  let colon = line.firstIndex(of: ":") else {
                throw .failed("\(binary) load printed no image name; see \(log)")
            }
            reference = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces).split(separator: ",").first.map(String.init) ?? ""
        } else {
            reference = request.image ?? ""
            guard !reference.isEmpty, !reference.hasPrefix("-") else { throw .usage("--image expects an image reference like registry.example/shop:1.4.0") }
            if (try? await run([binary, "image", "inspect", "--format", "{{.Id}}", reference], log: log, what: "")) == nil {
                _ = try await run([binary, "pull", reference], log: log, what: "pulling \(reference)")
            }
        }
        let id = try await run([binary, "image", "inspect", "--format", "{{.Id}}", reference], log: log, what: "inspecting \(reference)")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard !id.isEmpty, !id.contains("\n") else { throw .failed("\(binary) image inspect \(reference) gave no single id; see \(log)") }
        return ReleaseImage(reference: reference, id: id.hasPrefix("sha256:") ? id : "sha256:" + id, runtime: runtime)
    }

    /// Runs the runtime's CLI (argv, no shell); its output, or an error naming `what` and the log.
    private func run(_ argv: [String], log: String, what: String) async throws(SlipwayError) -> String {
        let out = log + ".out"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let status = try await ProcessSpawner.run(argv: argv, directory: "/", environment: Supervisor.daemonVariables(), logFile: out)
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        DeployLog(path: log).write("$ " + argv.joined(separator: " ") + "\n" + text)
        guard status == 0 else { throw .failed("\(what.isEmpty ? argv.joined(separator: " ") : what) failed (\(argv[0]) exited \(status)): \(text.split(separator: "\n").last ?? ""); see \(log)") }
        return text
    }
}

/// The directory an image release is made from: `image.json` alone.
enum ReleaseImages {
    static func directory(for image: ReleaseImage, in root: String) throws(SlipwayError) -> String {
        let dir = "\(root)/tmp-image-\(UUID().uuidString.prefix(8))"
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let data = try JSONEncoder().encode(image)
            try data.write(to: URL(fileURLWithPath: dir + "/" + ReleaseImage.file))
        } catch {
            throw SlipwayError(.internal, "cannot write the image release's image.json", cause: error)
        }
        return dir
    }
}
