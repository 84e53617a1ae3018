import Foundation
import Yams

/// Reads a compose file's services into process types, accessories and notes (`ComposeImport`).
struct ComposeImportBuilder {
    let file: String
    let environment: String
    var notes: [ComposeImport.Note] = []
    var app = "app"
    var types: [ProcessOut] = []
    var accessories: [AccessoryOut] = []
    var listen: String?
    var health: [(String, String)] = []

    struct ProcessOut {
        var name: String
        var service: String
        var command: [String]?
        var instances: Int?
        var memory: String?
        var secrets: [String] = []
        var stopTimeout: String?
        var stopSignal: String?
        var ports: [(published: Int?, target: Int?, node: Node)] = []
        var healthcheck: Node?
        var image: String?
        /// The service's key in the file.
        var node: Node?
    }

    struct AccessoryOut {
        var name: String
        var image: String
        var args: [String] = []
        var port: Int?
    }

    init(file: String, environment: String) {
        self.file = file
        self.environment = environment
    }

    mutating func note(_ node: Node?, _ key: String, _ message: String) {
        notes.append(.init(file: file, line: (node?.mark?.line ?? 0), key: key, message: message))
    }

    mutating func read(_ root: Node, app given: String?) throws(SlipwayError) {
        guard case .mapping(let top) = root else { throw SlipwayError(.usage, "\(file): expected a compose file (a mapping with services:)") }
        var name: String?
        var services: Node?
        for (k, v) in top {
            let key = k.string ?? ""
            switch key {
            case "services": services = v
            case "name": name = v.string
            case "version": note(k, key, "obsolete in compose itself; nothing to carry over")
            case "volumes": note(k, key, "named volumes: keep the data in shared/<env>/ (SLIPWAY_SHARED), which Slipway mounts into every container and backs up with backup.sources")
            case "networks": note(k, key, ComposeImport.unmapped["networks"] ?? "")
            case "secrets", "configs": note(k, key, ComposeImport.unmapped[key] ?? "")
            default: note(k, key, key.hasPrefix("x-") ? "extension fields are not read" : "not a compose key Slipway knows")
            }
        }
        let base = given ?? name ?? URL(fileURLWithPath: file).deletingLastPathComponent().lastPathComponent
        app = Self.simpleName(base) ?? "app"
        guard case .mapping(let entries)? = services else { throw SlipwayError(.usage, "\(file): no services: to import") }
        for (k, v) in entries {
            guard let service = k.string, case .mapping(let fields) = v else { continue }
            let image = fields.first { $0.key.string == "image" }?.value.string
            let built = fields.contains { $0.key.string == "build" }
            if !built, let image, let port = ComposeImport.dataStores[Self.imageName(image)] {
                readAccessory(service, image: image, defaultPort: port, fields: fields)
            } else {
                readProcess(service, image: image, fields: fields, node: k)
            }
        }
        try chooseWeb()
        notes = notes.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }.map(\.element)  // a line's notes keep their order
    }

    /// `registry.example/library/redis:7-alpine` → `redis`.
    static func imageName(_ image: String) -> String {
        let last = image.split(separator: "/").last.map(String.init) ?? image
        return String(last.split(separator: "@").first?.split(separator: ":").first ?? Substring(last)).lowercased()
    }

    /// A name of a-z, 0-9 and '-' made from `text` (nil when nothing is left).
    static func simpleName(_ text: String) -> String? {
        let mapped = String(text.lowercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "-" })
        let trimmed = mapped.split(separator: "-", omittingEmptySubsequences: true).joined(separator: "-")
        return trimmed.isEmpty ? nil : trimmed
    }

    /// A compose command (a string, split as a shell would, or a list) as argv.
    mutating func argv(_ node: Node, _ key: String) -> [String]? {
        if case .sequence(let items) = node { return items.compactMap(\.string) }
        guard let s = node.string else { return nil }
        do { return try CommandLineSplitter.split(s) } catch {
            note(node, key, "cannot split this command: \(error.message); give it as a list")
            return nil
        }
    }

    /// `8080:8080`, `127.0.0.1:8080:80`, `80`, `8080:80/tcp`, or `{ published, target }`.
    static func port(_ node: Node) -> (published: Int?, target: Int?) {
        if case .mapping(let m) = node {
            let published = m.first { $0.key.string == "published" }?.value.string.flatMap { Int($0) }
            let target = m.first { $0.key.string == "target" }?.value.string.flatMap { Int($0) }
            return (published, target)
        }
        guard let s = node.string else { return (nil, nil) }
        let parts = s.split(separator: "/").first?.split(separator: ":").map(String.init) ?? []
        if parts.count == 1 { return (nil, Int(parts[0])) }
        return (Int(parts[parts.count - 2]), Int(parts[parts.count - 1]))
    }
}
