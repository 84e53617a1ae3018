import Foundation
import SlipwayCore

/// A place backups are kept. Each backup is `<app>/<env>/<id>/` holding its archives and `manifest.json`,
/// which is written last: a backup without a manifest is incomplete and is never listed.
public protocol BackupStore: Sendable {
    /// How `list` shows this copy's location, e.g. `local:/var/backups/shop` or `s3://bucket/prefix/`.
    var label: String { get }
    /// Copies a finished backup (its archives in `directory`) into the store; the manifest goes last.
    func put(directory: String, manifest: BackupManifest) async throws(SlipwayError)
    /// The manifests of every complete backup of `app`/`environment` in the store.
    func manifests(app: String, environment: String) async throws(SlipwayError) -> [BackupManifest]
    /// A local path holding `file` of the backup: the stored file itself, or a download into `scratch`.
    func fetch(_ manifest: BackupManifest, file: String, scratch: String) async throws(SlipwayError) -> (path: String, temporary: Bool)
    /// Removes the backup from the store (manifest first, so a half-removed backup is not listed).
    func remove(_ manifest: BackupManifest) async throws(SlipwayError)
}

extension BackupStore {
    static func directory(app: String, environment: String, id: String) -> String { "\(app)/\(environment)/\(id)" }
}

/// A directory on this host (or a mounted disk).
public struct LocalBackupStore: BackupStore {
    public let base: String
    /// May hard-link from staging (the first local store only: a second link would share the inode,
    /// and one damaged file would damage every copy).
    let mayLink: Bool
    public var label: String { "local:\(base)" }

    public init(base: String, mayLink: Bool = false) {
        self.base = base
        self.mayLink = mayLink
    }

    public func path(_ m: BackupManifest) -> String { "\(base)/\(m.app)/\(m.environment)/\(m.id)" }

    public func put(directory: String, manifest: BackupManifest) async throws(SlipwayError) {
        let fm = FileManager.default
        let final = path(manifest)
        let partial = "\(base)/\(manifest.app)/\(manifest.environment)/.partial-\(manifest.id)"
        try? fm.removeItem(atPath: partial)
        do {
            try fm.createDirectory(atPath: partial, withIntermediateDirectories: true)
            for entry in manifest.entries {
                let src = "\(directory)/\(entry.file)", dst = "\(partial)/\(entry.file)"
                // A hard link when allowed and the staging area is on the same disk; a copy otherwise.
                if !mayLink || link(src, dst) != 0 { try fm.copyItem(atPath: src, toPath: dst) }
            }
            try manifest.encoded().write(to: URL(fileURLWithPath: "\(partial)/manifest.json"), options: .atomic)
            try fm.moveItem(atPath: partial, toPath: final)
        } catch let error as SlipwayError {
            try? fm.removeItem(atPath: partial)
            throw error
        } catch {
            try? fm.removeItem(atPath: partial)
            throw SlipwayError(.failed, "cannot write the backup to \(base)", cause: error)
        }
    }

    public func manifests(app: String, environment: String) async throws(SlipwayError) -> [BackupManifest] {
        let dir = "\(base)/\(app)/\(environment)"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var out: [BackupManifest] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let file = "\(dir)/\(name)/manifest.json"
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            if let m = try? BackupManifest.decode(data, from: file) { out.append(m) }
        }
        return out
    }

    public func fetch(_ manifest: BackupManifest, file: String, scratch: String) async throws(SlipwayError) -> (path: String, temporary: Bool) {
        let p = "\(path(manifest))/\(file)"
        guard FileManager.default.fileExists(atPath: p) else { throw .notFound("\(p) is missing from the backup") }
        return (p, false)
    }

    public func remove(_ manifest: BackupManifest) async throws(SlipwayError) {
        let p = path(manifest)
        try? FileManager.default.removeItem(atPath: "\(p)/manifest.json")
        do { if FileManager.default.fileExists(atPath: p) { try FileManager.default.removeItem(atPath: p) } } catch {
            throw SlipwayError(.failed, "cannot remove \(p)", cause: error)
        }
    }
}

/// An S3-compatible bucket.
public struct S3BackupStore: BackupStore {
    public let client: S3Client
    public var label: String { "s3://\(client.config.bucket)/\(client.config.prefix)" }

    public init(client: S3Client) { self.client = client }

    func key(_ m: BackupManifest, _ file: String) -> String {
        client.config.prefix + Self.directory(app: m.app, environment: m.environment, id: m.id) + "/" + file
    }

    public func put(directory: String, manifest: BackupManifest) async throws(SlipwayError) {
        for entry in manifest.entries {
            try await client.upload(file: "\(directory)/\(entry.file)", key: key(manifest, entry.file))
        }
        try await client.putObject(key(manifest, "manifest.json"), data: try manifest.encoded())
    }

    public func manifests(app: String, environment: String) async throws(SlipwayError) -> [BackupManifest] {
        let prefix = client.config.prefix + "\(app)/\(environment)/"
        var out: [BackupManifest] = []
        for k in try await client.list(prefix: prefix) where k.hasSuffix("/manifest.json") {
            if let data = try await client.getObject(k), let m = try? BackupManifest.decode(data, from: k) { out.append(m) }
        }
        return out.sorted { $0.id < $1.id }
    }

    public func fetch(_ manifest: BackupManifest, file: String, scratch: String) async throws(SlipwayError) -> (path: String, temporary: Bool) {
        let out = "\(scratch)/\(SourceArchiver.scratchName("s3"))-\(file)"
        try await client.download(key(manifest, file), to: out)
        return (out, true)
    }

    public func remove(_ manifest: BackupManifest) async throws(SlipwayError) {
        try await client.delete(key(manifest, "manifest.json"))
        for entry in manifest.entries { try await client.delete(key(manifest, entry.file)) }
    }
}
