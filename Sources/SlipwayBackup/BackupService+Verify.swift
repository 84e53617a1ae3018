import Foundation
import SlipwayCore

extension BackupService {
    /// Checks every file of every copy against the manifest's sha256; with `restoreTest`, restores each
    /// source into scratch and checks integrity and row counts.
    public func verify(_ manifest: BackupManifest, locations: [String]?, restoreTest: Bool) async throws(SlipwayError) -> VerifyReport {
        let log = logFile("verify", manifest.id)
        let ctx = try context(staging: "\(workDirectory)/scratch", log: log)
        var files: [VerifyReport.FileCheck] = []
        for store in stores(holding: locations) {
            for entry in manifest.entries {
                do throws(SlipwayError) {
                    let fetched = try await store.fetch(manifest, file: entry.file, scratch: ctx.scratch)
                    defer { if fetched.temporary { try? FileManager.default.removeItem(atPath: fetched.path) } }
                    let sum = try await Checksum.sha256(path: fetched.path)
                    let ok = sum == entry.sha256
                    let place = fetched.temporary ? "\(store.label) \(entry.file)" : fetched.path
                    files.append(.init(location: store.label, file: entry.file, ok: ok,
                                       detail: ok ? "sha256 ok" : "\(place): sha256 \(sum) does not match the manifest's \(entry.sha256)"))
                } catch {
                    files.append(.init(location: store.label, file: entry.file, ok: false, detail: error.message))
                }
            }
        }
        var restores: [RestoreCheck] = []
        if restoreTest {
            for entry in manifest.entries {
                guard let source = settings.sources.first(where: { $0.name == entry.source }) else {
                    restores.append(RestoreCheck(source: entry.source, ok: false, detail: "source \(entry.source) is no longer configured"))
                    continue
                }
                do throws(SlipwayError) {
                    let check = try await withFile(manifest, entry, locations: locations, scratch: ctx.scratch) { (path: String, checksum: PendingChecksum) async throws(SlipwayError) in
                        try await checksum.wait()
                        return try await SourceArchiver.restoreTest(entry, file: path, source: source, context: ctx)
                    }
                    restores.append(check)
                } catch {
                    restores.append(RestoreCheck(source: entry.source, ok: false, detail: error.message))
                }
            }
        }
        let ok = files.allSatisfy(\.ok) && restores.allSatisfy(\.ok)
        return VerifyReport(id: manifest.id, ok: ok, files: files, restores: restores)
    }

    /// Restores `manifest` (every source, or `only`) to `target` from the first store with a good copy.
    public func restore(_ manifest: BackupManifest, locations: [String]?, only: String?, to target: RestoreTarget) async throws(SlipwayError) -> [String] {
        let entries = manifest.entries.filter { only == nil || $0.source == only }
        if let only, entries.isEmpty { throw .usage("backup \(manifest.id) has no source named '\(only)'") }
        if target != .inPlace, entries.count > 1 { throw .usage("--to restores one source; pick it with --source NAME") }
        let log = logFile("restore", manifest.id)
        let ctx = try context(staging: "\(workDirectory)/scratch", log: log)
        var done: [String] = []
        for entry in entries {
            guard let source = settings.sources.first(where: { $0.name == entry.source }) else {
                throw .usage("source \(entry.source) of backup \(manifest.id) is no longer in backup.sources")
            }
            try await withFile(manifest, entry, locations: locations, scratch: ctx.scratch) { (path: String, checksum: PendingChecksum) async throws(SlipwayError) in
                try await SourceArchiver.restore(entry, file: path, source: source, to: target, context: ctx, verified: checksum)
            }
            done.append(entry.source)
        }
        return done
    }

    /// Deletes `manifest` from every store that holds it.
    public func remove(_ manifest: BackupManifest, locations: [String]?) async -> [String] {
        var failures: [String] = []
        for store in stores(holding: locations) {
            do throws(SlipwayError) { try await store.remove(manifest) } catch { failures.append("\(store.label): \(error.message)") }
        }
        return failures
    }
}

extension BackupService {
    /// Every complete backup of this environment in every store, with the stores holding it.
    /// `failures` names the stores that could not be listed.
    public func scan() async -> (found: [(manifest: BackupManifest, locations: [String])], failures: [String]) {
        var byID: [String: (manifest: BackupManifest, locations: [String])] = [:]
        var failures: [String] = []
        for store in stores {
            do throws(SlipwayError) {
                for m in try await store.manifests(app: app, environment: environment) {
                    byID[m.id, default: (m, [])].locations.append(store.label)
                }
            } catch {
                failures.append("\(store.label): \(error.message)")
            }
        }
        return (byID.values.sorted { $0.manifest.id > $1.manifest.id }, failures)
    }
}
