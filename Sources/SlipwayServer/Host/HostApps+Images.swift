import Foundation
import Logging
import SlipwayCore
import SlipwayEngine
import SlipwayRuntime

/// Image releases on a fleet host: the controller saves the pinned image once and sends it to the hosts whose
/// runtime lacks it; each loads it and checks the id it loaded as against the pin (the image's own digest) before
/// the release (its `image.json`) is staged, so a host activates only the image the controller pinned.
extension HostApps {
    func image(app: String, _ image: ReleaseImage) async throws(SlipwayError) -> HostImageState {
        try Self.validApp(app)
        let images = try ImageRuntime(image.runtime, log: stateRoot(app) + "/logs/images.log")
        return HostImageState(id: image.id, present: await images.id(of: image.id) == image.id)
    }

    /// Loads `archive` (a gzipped `save` of `image`) into this host's runtime; refused when it holds another image.
    /// The archive and its unpacked copy are removed whatever happens.
    func loadImage(app: String, _ image: ReleaseImage, archive: String) async throws(SlipwayError) -> HostImageState {
        try Self.validApp(app)
        guard FileManager.default.fileExists(atPath: configPath(app)) else { throw .usage("no config staged for \(app) on this host yet") }
        try? FileManager.default.createDirectory(atPath: stateRoot(app) + "/logs", withIntermediateDirectories: true)
        let log = stateRoot(app) + "/logs/images.log"
        let tar = archive + ".tar"
        defer { try? FileManager.default.removeItem(atPath: tar) }
        // The unpacked archive on gzip's stdout alone (its complaints go to the log, never into the archive).
        do {
            try await ProcessPipeline([.init(["gzip", "--decompress", "--stdout"], environment: ImageRuntime.variables())], input: archive, output: tar, logFile: log).run()
        } catch {
            throw SlipwayError(.failed, "the image archive for \(image.reference) does not unpack as gzip; nothing was activated", cause: error)
        }
        try await ImageRuntime(image.runtime, log: log).load(tar, expecting: image)
        logger.info("loaded an image", metadata: ["app": "\(app)", "image": "\(image.reference)", "id": "\(image.id)"])
        return HostImageState(id: image.id, present: true)
    }
}
