import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// Releases: made from the app's directory (`release.build`, `release.files`) or a directory given, made
/// from a git commit for a webhook (`Releases+Git.swift`), listed. Immutable once made; `ReleaseStore`
/// keeps them on disk and the engine prunes them after a deploy.
public struct Releases: Sendable, FeatureObject {
    let context: EngineContext

    public func list() -> [ReleaseInfo] { releases.list() }

    /// Builds (release.build) and copies release.files, or copies `from`, into an immutable release.
    public func create(_ request: ReleaseCreateRequest) async throws(SlipwayError) -> ReleaseInfo {
        let cfg = try await context.reloadConfig()
        try ReleaseVersion.validate(request.version)
        var source = cfg.directory
        var files: [String]? = cfg.release.files
        var made: String?
        defer { if let made { try? FileManager.default.removeItem(atPath: made) } }
        if request.image != nil || request.imageArchive != nil {
            guard request.from == nil, request.image == nil || request.imageArchive == nil else {
                throw .usage("give one of --from, --image or --image-archive")
            }
            let image: ReleaseImage
            do { image = try await pin(request, config: cfg) } catch {
                try store.audit(request.by, action: "release.create", target: request.version, outcome: "failed", detail: error.message)
                throw error
            }
            made = try ReleaseImages.directory(for: image, in: cfg.root)
            source = made ?? source
            files = nil
        } else if let from = request.from {
            source = from
            files = nil
        } else {
            if let build = cfg.release.build {
                let argv = try CommandLineSplitter.split(build, variables: ProcessInfo.processInfo.environment)
                let logFile = "\(cfg.logsDirectory)/build-\(request.version).log"
                let status = try await ProcessSpawner.run(argv: argv, directory: cfg.directory,
                                                          environment: ProcessInfo.processInfo.environment, logFile: logFile)
                guard status == 0 else {
                    try store.audit(request.by, action: "release.create", target: request.version, outcome: "failed", detail: "build exited \(status)")
                    throw .failed("release.build exited with status \(status); see \(logFile)")
                }
            }
            if files?.isEmpty ?? true {
                throw .usage("nothing to put in release \(request.version): set release.files in \(cfg.file) or pass --from DIR")
            }
        }
        do {
            let info = try releases.create(version: request.version, source: source, files: files, creator: request.actor,
                                           git: ReleaseStore.gitProvenance(of: source))
            try store.audit(request.by, action: "release.create", target: request.version, outcome: "ok", detail: info.digest)
            return info
        } catch {
            try store.audit(request.by, action: "release.create", target: request.version, outcome: "failed", detail: error.message)
            throw error
        }
    }
}
