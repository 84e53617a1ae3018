import Foundation
import SlipwayCore
import SlipwayRuntime

/// Directories: a tar archive streamed through the compressor. An in-place restore unpacks beside the
/// directory and swaps it in with renames, so the directory is never half restored.
enum DirectoryArchiver {
    static func backup(name: String, path: String, context: ArchiveContext) async throws(SlipwayError) -> BackupManifest.Entry {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw .failed("source \(name): directory \(path) does not exist")
        }
        let tar = try Tools.require(["tar"], package: "tar")
        let started = Date()
        let count = fileCount(path)
        let file = "\(context.staging)/\(name).tar\(context.codec.fileExtension)"
        var stages = [ProcessPipeline.Stage([tar, "-C", path, "--numeric-owner", "-cf", "-", "."])]
        if let c = context.codec.compressStage { stages.append(c) }
        do {
            try await ProcessPipeline(stages, output: file, logFile: context.logFile).run()
        } catch {
            throw SlipwayError(.failed, "source \(name): archiving \(path) failed", cause: error.cause ?? error.message)
        }
        return BackupManifest.Entry(
            source: name, kind: "directory", file: (file as NSString).lastPathComponent, size: Checksum.size(file),
            sha256: try await SourceArchiver.checksum(file, context), compression: context.codec.rawValue, encrypted: false,
            tool: await Tools.version(tar, log: context.logFile), startedAt: started, finishedAt: Date(), fileCount: count)
    }

    static func restore(file: String, codec: Codec, to target: String, context: ArchiveContext) async throws(SlipwayError) {
        let fm = FileManager.default
        let parent = (target as NSString).deletingLastPathComponent
        let fresh = "\(parent)/.\((target as NSString).lastPathComponent).restore-\(UUID().uuidString.prefix(8))"
        try makeDirectory(fresh)
        try await unpack(file: file, codec: codec, into: fresh, context: context)
        let old = fresh.replacingOccurrences(of: ".restore-", with: ".old-")
        do {
            if fm.fileExists(atPath: target) { try fm.moveItem(atPath: target, toPath: old) }
            try fm.moveItem(atPath: fresh, toPath: target)
            try? fm.removeItem(atPath: old)
        } catch {
            if !fm.fileExists(atPath: target), fm.fileExists(atPath: old) { try? fm.moveItem(atPath: old, toPath: target) }
            try? fm.removeItem(atPath: fresh)
            throw SlipwayError(.failed, "cannot swap the restored directory into \(target)", cause: error)
        }
    }

    static func restoreTest(_ entry: BackupManifest.Entry, file: String, codec: Codec, context: ArchiveContext) async throws(SlipwayError) -> RestoreCheck {
        let dir = "\(context.scratch)/\(SourceArchiver.scratchName("restore"))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            try makeDirectory(dir)
            try await unpack(file: file, codec: codec, into: dir, context: context)
        } catch {
            return RestoreCheck(source: entry.source, ok: false, detail: "the archive does not unpack: \(error.message)")
        }
        let n = fileCount(dir)
        if let expected = entry.fileCount, expected != n {
            return RestoreCheck(source: entry.source, ok: false, detail: "unpacked \(n) file(s), manifest says \(expected)")
        }
        return RestoreCheck(source: entry.source, ok: true, detail: "unpacked \(n) file(s), as the manifest says")
    }

    static func makeDirectory(_ dir: String) throws(SlipwayError) {
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw SlipwayError(.failed, "cannot create \(dir)", cause: error)
        }
    }

    static func unpack(file: String, codec: Codec, into dir: String, context: ArchiveContext) async throws(SlipwayError) {
        let tar = try Tools.require(["tar"], package: "tar")
                do {
            try await ProcessPipeline(codec.decompressStages + [.init([tar, "-C", dir, "--numeric-owner", "-xf", "-"])], input: file, logFile: context.logFile).run()
        } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
    }

    /// Regular files under `path` modified after `date`.
    static func filesModified(under path: String, after date: Date) -> Int {
        let keys: [URLResourceKey] = [.isRegularFileKey, .contentModificationDateKey]
        guard let e = FileManager.default.enumerator(at: URL(fileURLWithPath: path), includingPropertiesForKeys: keys) else { return 0 }
        var n = 0
        for case let url as URL in e {
            guard let v = try? url.resourceValues(forKeys: Set(keys)), v.isRegularFile == true else { continue }
            if let m = v.contentModificationDate, m > date { n += 1 }
        }
        return n
    }

    /// Regular files under `path`.
    static func fileCount(_ path: String) -> Int {
        guard let e = FileManager.default.enumerator(at: URL(fileURLWithPath: path), includingPropertiesForKeys: [.isRegularFileKey]) else { return 0 }
        var n = 0
        for case let url as URL in e where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { n += 1 }
        return n
    }
}
