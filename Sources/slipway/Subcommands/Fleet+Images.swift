import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayEngine
import SlipwayFleet
import SlipwayRuntime

/// Image releases on a fleet (`runtime: podman | docker`): `deploy V --image REF | --image-archive FILE` pins the image
/// here (its id), keeps the release (`image.json`) in this controller's release store, and saves the image once per
/// deploy for the hosts that lack it.
extension FleetCommand {
    /// The release to stage, made here first when it is not (from files, or from the image given), and its image when it
    /// is an image release (a gzipped `save` archive the caller removes).
    static func release(_ cfg: SlipwayConfig, _ env: EnvironmentConfig, version: String, image: String?, imageArchive: String?) async throws -> (ReleaseInfo, FleetImage?) {
        let store = ReleaseStore(directory: cfg.releasesDirectory)
        let log = "\(cfg.logsDirectory)/image-\(version).log"
        try? FileManager.default.createDirectory(atPath: cfg.logsDirectory, withIntermediateDirectories: true)
        let release: ReleaseInfo
        if image != nil || imageArchive != nil {
            guard env.runtime != .process else {
                throw SlipwayError.usage("--image: environments.\(env.name) runs processes (runtime: process); set runtime: podman or runtime: docker in \(cfg.file)")
            }
            let images = try ImageRuntime(env.runtime, log: log)
            let pinned = if let imageArchive { try await images.pin(archive: imageArchive) } else { try await images.pin(reference: image ?? "") }
            if let existing = store.info(version) {
                guard ReleaseImage.read(releaseDirectory: store.path(version)) == pinned else {
                    throw SlipwayError.usage("release \(version) exists here already and is not \(pinned.reference) (\(pinned.id.prefix(19))…); releases are immutable: give a new version")
                }
                release = existing
            } else {
                let dir = try ReleaseImages.directory(for: pinned, in: cfg.root)
                defer { try? FileManager.default.removeItem(atPath: dir) }
                release = try store.create(version: version, source: dir, creator: DaemonClient.actor, git: nil)
                say("release \(version): \(pinned.reference) pinned to \(pinned.id.prefix(19))…")
            }
        } else {
            if store.info(version) == nil, env.runtime != .process, cfg.release.files.isEmpty {
                throw SlipwayError.usage("release \(version) is not here yet: give --image REF or --image-archive FILE (environments.\(env.name) runs \(env.runtime.rawValue))")
            }
            release = try await localRelease(cfg, version: version)
        }
        guard let pin = ReleaseImage.read(releaseDirectory: store.path(release.version)) else { return (release, nil) }
        let tar = "\(cfg.logsDirectory)/.image-\(release.version)-\(getpid()).tar"
        do {
            try await ImageRuntime(pin.runtime, log: log).save(pin, to: tar)
            let status = try await ProcessSpawner.run(argv: ["gzip", "-1", "--force", tar], directory: cfg.logsDirectory, environment: ImageRuntime.variables(), logFile: log + ".gzip")
            try? FileManager.default.removeItem(atPath: log + ".gzip")
            guard status == 0 else { throw SlipwayError.failed("cannot compress the saved image \(tar) (gzip exited \(status))") }
        } catch {
            try? FileManager.default.removeItem(atPath: tar)
            throw error
        }
        return (release, FleetImage(image: pin, archive: tar + ".gz"))
    }
}
