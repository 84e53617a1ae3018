import Foundation
import SlipwayCore

/// An image release's image as a fleet deploy carries it: the pin (reference, id, runtime) and a gzipped `save`
/// archive of it on the controller, made once per deploy and sent to each host whose runtime lacks the id.
public struct FleetImage: Sendable, Equatable {
    public var image: ReleaseImage
    /// The archive's path on the controller.
    public var archive: String

    public init(image: ReleaseImage, archive: String) {
        self.image = image
        self.archive = archive
    }

    /// The host API's query naming the image (`id`, `reference`, `runtime`), percent-encoded.
    var query: String {
        func q(_ v: String) -> String { v.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? v }
        return "id=\(q(image.id))&reference=\(q(image.reference))&runtime=\(image.runtime.rawValue)"
    }
}
