import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

/// Image releases (`slipway release create V --image REF | --image-archive FILE`): the runtime named by the
/// config (`runtime: podman | docker`) loads or pulls the image (`ImageRuntime`), and the release pins its id; the
/// release's directory holds only `image.json`, so its digest names the image.
extension Releases {
    func pin(_ request: ReleaseCreateRequest, config cfg: SlipwayConfig) async throws(SlipwayError) -> ReleaseImage {
        let runtimes = Set(cfg.environmentNames.compactMap { cfg.environments[$0]?.runtime }.filter { $0 != .process })
        guard let runtime = runtimes.first else { throw .usage("an image release needs runtime: podman or runtime: docker in \(cfg.file)") }
        guard runtimes.count == 1 else { throw .usage("environments use both podman and docker; an image release is held by one of them") }
        let images = try ImageRuntime(runtime, log: "\(cfg.logsDirectory)/image-\(request.version).log")
        if let archive = request.imageArchive { return try await images.pin(archive: archive) }
        return try await images.pin(reference: request.image ?? "")
    }
}

/// The directory an image release is made from: `image.json` alone.
public enum ReleaseImages {
    public static func directory(for image: ReleaseImage, in root: String) throws(SlipwayError) -> String {
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
