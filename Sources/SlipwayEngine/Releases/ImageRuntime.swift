import Foundation
import SlipwayCore
import SlipwayRuntime

/// What Slipway asks of a container runtime's CLI (`podman` or `docker`) about images: pin a reference or a saved
/// archive to its id, save an image for another host, load one there and check it is the pinned one. Every call is
/// an argv (no shell) with the runtime's own configuration variables passed on; what it prints goes to `log`.
public struct ImageRuntime: Sendable {
    public let runtime: ContainerRuntime
    public let binary: String
    /// Where each call and its output are appended.
    public let log: String

    public init(_ runtime: ContainerRuntime, log: String) throws(SlipwayError) {
        guard let binary = runtime.binary else { throw .usage("an image release needs runtime: podman or runtime: docker") }
        self.runtime = runtime
        self.binary = binary
        self.log = log
    }

    /// The release image of `reference`, pulled first when the runtime does not have it.
    public func pin(reference: String) async throws(SlipwayError) -> ReleaseImage {
        guard !reference.isEmpty, !reference.hasPrefix("-") else { throw .usage("--image expects an image reference like registry.example/shop:1.4.0") }
        if await id(of: reference) == nil {
            _ = try await run([binary, "pull", reference], what: "pulling \(reference)")
        }
        return try await pinned(reference)
    }

    /// The release image of a `docker save` / `podman save` archive, loaded first.
    public func pin(archive: String) async throws(SlipwayError) -> ReleaseImage {
        guard FileManager.default.fileExists(atPath: archive) else { throw .usage("--image-archive \(archive): no such file") }
        return try await pinned(try await load(archive))
    }

    /// The image's id (`sha256:…`), nil when the runtime does not have `reference` (a name or an id).
    public func id(of reference: String) async -> String? {
        guard let out = try? await run([binary, "image", "inspect", "--format", "{{.Id}}", reference], what: "") else { return nil }
        let id = out.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !id.isEmpty, !id.contains("\n") else { return nil }
        return id.hasPrefix("sha256:") ? id : "sha256:" + id
    }

    /// Saves `image` to `path` for another host: under its reference when that still names the pinned id (the
    /// host gets the tag too), else by id.
    public func save(_ image: ReleaseImage, to path: String) async throws(SlipwayError) {
        let name = await id(of: image.reference) == image.id ? image.reference : image.id
        guard await id(of: name) == image.id else {
            throw .notFound("the image \(image.reference) (\(image.id.prefix(19))…) is not in \(binary) here any more; pull or load it again")
        }
        _ = try await run([binary, "save", "--output", path, name], what: "saving \(image.reference)")
    }

    /// Loads the archive a controller sent and checks it holds the pinned image: its id is the image's digest, so
    /// an archive changed on the way (or a different image) is refused.
    public func load(_ archive: String, expecting image: ReleaseImage) async throws(SlipwayError) {
        let loaded = try await load(archive)
        // Saved by id, the runtime names the id it loaded; saved under a reference, the id is the reference's now.
        let got = loaded.hasPrefix("sha256:") ? loaded : await id(of: loaded)
        guard got == image.id else {
            throw .failed("the image archive does not match its digest: expected \(image.id), loaded \(got ?? "nothing") as \(loaded); nothing was activated")
        }
    }

    /// `load --input`: the name it loaded (the first one it printed).
    private func load(_ archive: String) async throws(SlipwayError) -> String {
        let out = try await run([binary, "load", "--input", archive], what: "loading \(archive)")
        // podman: "Loaded image: REF" (or "Loaded image(s): REF,REF"); docker: "Loaded image: REF" or "Loaded image ID: sha256:…".
        guard let line = out.split(separator: "\n").last(where: { $0.hasPrefix("Loaded image") }), let colon = line.firstIndex(of: ":") else {
            throw .failed("\(binary) load printed no image name; see \(log)")
        }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces).split(separator: ",").first.map(String.init) ?? ""
    }

    private func pinned(_ reference: String) async throws(SlipwayError) -> ReleaseImage {
        guard let id = await id(of: reference) else { throw .failed("\(binary) image inspect \(reference) gave no single id; see \(log)") }
        return ReleaseImage(reference: reference, id: id, runtime: runtime)
    }

    /// Runs the runtime's CLI: its output, or an error naming `what` and the log.
    private func run(_ argv: [String], what: String) async throws(SlipwayError) -> String {
        let out = log + ".\(UUID().uuidString.prefix(8)).out"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let status = try await ProcessSpawner.run(argv: argv, directory: "/", environment: Self.variables(), logFile: out)
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        DeployLog(path: log).write("$ " + argv.joined(separator: " ") + "\n" + text)
        guard status == 0 else { throw .failed("\(what.isEmpty ? argv.joined(separator: " ") : what) failed (\(argv[0]) exited \(status)): \(text.split(separator: "\n").last ?? ""); see \(log)") }
        return text
    }

    /// What the runtime's CLI runs with: the daemon's few passed-on variables and the runtime's own configuration
    /// (`CONTAINERS_CONF`, `CONTAINERS_STORAGE_CONF`, `DOCKER_HOST`, …), never an app's variables.
    public static func variables() -> [String: String] {
        let own = ["DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "XDG_RUNTIME_DIR", "REGISTRY_AUTH_FILE"]
        return Supervisor.daemonVariables().merging(ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("CONTAINERS_") || own.contains($0.key) }) { $1 }
    }
}
