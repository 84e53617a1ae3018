import Foundation
import SlipwayCore

/// The stores as plain objects, for continuous archives (`continuous/<app>/<env>/<source>/<generation>/…`): a
/// generation's snapshot and `generation.json`, then its numbered segments. Keys are relative to the store's root.
public protocol ArchiveObjects: Sendable {
    var label: String { get }
    /// Puts `file` at `key` whole (a reader never sees half of it).
    func putObject(_ key: String, file: String) async throws(SlipwayError)
    /// Every key under `prefix` (a directory-like prefix ending in `/`).
    func objects(under prefix: String) async throws(SlipwayError) -> [String]
    func getObject(_ key: String, to file: String) async throws(SlipwayError)
    func deleteObject(_ key: String) async throws(SlipwayError)
}

extension LocalBackupStore: ArchiveObjects {
    public func putObject(_ key: String, file: String) async throws(SlipwayError) {
        let target = base + "/" + key
        let temp = (target as NSString).deletingLastPathComponent + "/.partial-" + (target as NSString).lastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: temp)
            try FileManager.default.copyItem(atPath: file, toPath: temp)
            guard rename(temp, target) == 0 else { throw SlipwayError(.failed, "cannot move \(temp) to \(target)", cause: String(cString: strerror(errno))) }
        } catch let error as SlipwayError {
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            throw SlipwayError(.failed, "cannot write \(key) to \(base)", cause: error)
        }
    }

    public func objects(under prefix: String) async throws(SlipwayError) -> [String] {
        let root = base + "/" + prefix
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [String] = []
        while let item = walker.nextObject() as? String {
            let name = (item as NSString).lastPathComponent
            var isDir: ObjCBool = false
            guard !name.hasPrefix("."), FileManager.default.fileExists(atPath: root + item, isDirectory: &isDir), !isDir.boolValue else { continue }
            out.append(prefix + item)
        }
        return out.sorted()
    }

    public func getObject(_ key: String, to file: String) async throws(SlipwayError) {
        do {
            try? FileManager.default.removeItem(atPath: file)
            try FileManager.default.copyItem(atPath: base + "/" + key, toPath: file)
        } catch { throw SlipwayError(.notFound, "\(key) is missing from \(label)", cause: error) }
    }

    public func deleteObject(_ key: String) async throws(SlipwayError) {
        try? FileManager.default.removeItem(atPath: base + "/" + key)
    }
}

extension S3BackupStore: ArchiveObjects {
    public func putObject(_ key: String, file: String) async throws(SlipwayError) {
        try await client.upload(file: file, key: client.config.prefix + key)
    }

    public func objects(under prefix: String) async throws(SlipwayError) -> [String] {
        let full = client.config.prefix + prefix
        return try await client.list(prefix: full).map { String($0.dropFirst(client.config.prefix.count)) }.sorted()
    }

    public func getObject(_ key: String, to file: String) async throws(SlipwayError) {
        try await client.download(client.config.prefix + key, to: file)
    }

    public func deleteObject(_ key: String) async throws(SlipwayError) {
        try await client.delete(client.config.prefix + key)
    }
}
