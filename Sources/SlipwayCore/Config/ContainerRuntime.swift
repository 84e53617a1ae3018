import Foundation

/// `runtime:`: how an instance runs. `process` (the default) starts `process.command` from the release's
/// directory; `podman` and `docker` run a release made from an image (`slipway release create --image`), as a
/// container on the host network, with `process.command` (optional) as its command.
public enum ContainerRuntime: String, Sendable, Equatable, CaseIterable, Codable {
    case process, podman, docker

    /// The CLI that runs containers (nil: no container).
    public var binary: String? {
        switch self {
        case .process: nil
        case .podman: "podman"
        case .docker: "docker"
        }
    }
}

/// What an image release holds (`image.json` in its directory): the reference it was made from and the image
/// id it is pinned to (a tag that moves later changes nothing), and the runtime that holds the image.
public struct ReleaseImage: Codable, Sendable, Equatable {
    public static let file = "image.json"
    public var reference: String
    public var id: String
    public var runtime: ContainerRuntime

    public init(reference: String, id: String, runtime: ContainerRuntime) {
        self.reference = reference
        self.id = id
        self.runtime = runtime
    }

    /// The image of the release in `directory`, if it is an image release.
    public static func read(releaseDirectory directory: String) -> ReleaseImage? {
        guard let data = FileManager.default.contents(atPath: directory + "/" + file) else { return nil }
        return try? JSONDecoder().decode(ReleaseImage.self, from: data)
    }

    /// A container name from `parts` (`slipway-shop-production-v2-0`): what a container name may hold, the rest as `_`.
    public static func containerName(_ parts: [String]) -> String {
        let raw = (["slipway"] + parts).joined(separator: "-")
        return String(raw.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") ? $0 : "_" })
    }
}
