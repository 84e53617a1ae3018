import Foundation
import SlipwayCore
import SlipwayRuntime

/// Takes, checks and restores the backups of one environment, against every configured store.
public struct BackupService: Sendable {
    public let app: String
    public let environment: String
    public let settings: BackupSettings
    /// Values of the secrets the backup section names.
    let secrets: [String: String]
    /// `<root>/backups`: staging and scratch space.
    let workDirectory: String
    let logsDirectory: String
    public let stores: [any BackupStore]
    /// The key of `backup.encryption_key_secret`, when set.
    let encryptionKey: BackupKey?

    public init(app: String, environment: String, settings: BackupSettings, secrets: [String: String], root: String) throws(SlipwayError) {
        self.app = app
        self.environment = environment
        self.settings = settings
        self.secrets = secrets
        workDirectory = root + "/backups"
        logsDirectory = root + "/logs"
        var stores: [any BackupStore] = []
        for s in settings.stores {
            switch s {
            case .local(let path): stores.append(LocalBackupStore(base: path, mayLink: !stores.contains { $0 is LocalBackupStore }))
            case .s3(let cfg):
                guard let access = secrets[cfg.accessKeySecret], let secret = secrets[cfg.secretKeySecret] else {
                    throw .usage("secrets \(cfg.accessKeySecret) and \(cfg.secretKeySecret) must be set for the S3 store \(cfg.bucket)")
                }
                stores.append(S3BackupStore(client: try S3Client(config: cfg, accessKey: access, secretKey: secret)))
            }
        }
        guard !stores.isEmpty else { throw .usage("backup.stores is empty; add a local directory or an s3 bucket") }
        self.stores = stores
        if let name = settings.encryptionKeySecret {
            guard let value = secrets[name] else {
                throw .usage("secret \(name) (backup.encryption_key_secret) is not set: export it in the daemon's environment or add it to secrets.env in the root")
            }
            encryptionKey = try BackupCipher.key(value, secret: name)
        } else {
            encryptionKey = nil
        }
    }

    public func logFile(_ kind: String, _ id: String) -> String { "\(logsDirectory)/\(kind)-\(id).log" }

    func context(staging: String, log: String) throws(SlipwayError) -> ArchiveContext {
        let scratch = workDirectory + "/scratch"
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: logsDirectory, withIntermediateDirectories: true)
        } catch { throw SlipwayError(.failed, "cannot create \(workDirectory)", cause: error) }
        return ArchiveContext(staging: staging, logFile: log, codec: Codec.preferred, secrets: secrets, scratch: scratch)
    }

    public struct Created: Sendable {
        public var manifest: BackupManifest
        /// Labels of the stores that hold a copy.
        public var locations: [String]
    }

    /// Backs up every source (or only `only`) and writes the result to every store.
    public func create(reason: String, release: BackupManifest.Release?, deploymentId: Int64? = nil, beforeDeployOf: String? = nil,
                       only: String? = nil, now: Date = Date()) async throws(SlipwayError) -> Created {
        let sources = settings.sources.filter { only == nil || $0.name == only }
        if let only, sources.isEmpty {
            throw .usage("no backup source named '\(only)'; configured: \(settings.sources.map(\.name).joined(separator: ", "))")
        }
        let id = BackupManifest.newID(environment: environment, at: now)
        let staging = "\(workDirectory)/staging/\(id)"
        let log = logFile("backup", id)
        var ctx = try context(staging: staging, log: log)
        ctx.checksumArchive = encryptionKey == nil
        defer { try? FileManager.default.removeItem(atPath: staging) }
        var entries: [BackupManifest.Entry] = []
        for source in sources {
            entries.append(try await encrypted(try await SourceArchiver.backup(source, context: ctx), staging: staging))
        }
        let encryption = encryptionKey.map {
            BackupManifest.Encryption(algorithm: BackupCipher.algorithm, keySecret: settings.encryptionKeySecret ?? "", keyId: BackupCipher.keyID($0))
        }
        let manifest = BackupManifest(id: id, app: app, environment: environment, release: release, reason: reason,
                                      deploymentId: deploymentId, beforeDeployOf: beforeDeployOf, entries: entries,
                                      encryption: encryption, startedAt: now, finishedAt: Date())
        var locations: [String] = []
        var failures: [String] = []
        for store in stores {
            do throws(SlipwayError) {
                try await store.put(directory: staging, manifest: manifest)
                locations.append(store.label)
            } catch {
                failures.append("\(store.label): \(error.message)\(error.cause.map { " (\($0))" } ?? "")")
            }
        }
        guard !locations.isEmpty else { throw SlipwayError(.failed, "the backup could not be written to any store", cause: failures.joined(separator: "; ")) }
        if !failures.isEmpty { appendLog(log, "copies failed: " + failures.joined(separator: "; ")) }
        return Created(manifest: manifest, locations: locations)
    }

    func appendLog(_ path: String, _ line: String) {
        guard let h = FileHandle(forWritingAtPath: path) ?? (FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640]) ? FileHandle(forWritingAtPath: path) : nil) else { return }
        defer { try? h.close() }
        _ = try? h.seekToEnd()
        try? h.write(contentsOf: Data((line + "\n").utf8))
    }

    /// The store copies of `manifest`, in configured order, limited to `locations` when given.
    func stores(holding locations: [String]?) -> [any BackupStore] {
        guard let locations else { return stores }
        return stores.filter { locations.contains($0.label) }
    }

    /// Fetches `entry` from the first store whose copy matches its checksum and runs `body` with its
    /// local path. For an unencrypted archive the checksum runs while `body` starts (`body` gets it as
    /// `PendingChecksum` and must wait for it before changing anything); a mismatch moves on to the next store.
    func withFile<T>(_ manifest: BackupManifest, _ entry: BackupManifest.Entry, locations: [String]?, scratch: String,
                     _ body: (String, PendingChecksum) async throws(SlipwayError) -> T) async throws(SlipwayError) -> T {
        var lastError: SlipwayError?
        for store in stores(holding: locations) {
            let fetched: (path: String, temporary: Bool)
            do throws(SlipwayError) { fetched = try await store.fetch(manifest, file: entry.file, scratch: scratch) } catch {
                lastError = error
                continue
            }
            defer { if fetched.temporary { try? FileManager.default.removeItem(atPath: fetched.path) } }
            let checksum = PendingChecksum(path: fetched.path, expected: entry.sha256, label: "\(store.label): \(entry.file)")
            if entry.encrypted {
                // Decrypt only what matches: the key never meets a file someone changed.
                do throws(SlipwayError) { try await checksum.wait() } catch {
                    lastError = error
                    continue
                }
                let plain = try await decrypted(manifest, entry, path: fetched.path, scratch: scratch)
                defer { try? FileManager.default.removeItem(atPath: plain) }
                return try await body(plain, checksum)
            }
            do throws(SlipwayError) {
                let result = try await body(fetched.path, checksum)
                try await checksum.wait()
                return result
            } catch {
                if await checksum.matches() { throw error }
                lastError = .failed("\(store.label): \(entry.file) does not match its checksum")
            }
        }
        throw lastError ?? .notFound("no store holds backup \(manifest.id)")
    }
}
