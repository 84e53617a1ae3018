import Crypto
import Foundation
import SlipwayCore

/// Immutable releases on disk: `releases/<version>/` plus a manifest (`.slipway-release.json`, not part of the digest).
/// A release is assembled in a temp directory and renamed into place, so a crash never leaves half a release.
public struct ReleaseStore: Sendable {
    public static let manifestName = ".slipway-release.json"
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func path(_ version: String) -> String { directory + "/" + version }

    public func info(_ version: String) -> ReleaseInfo? {
        guard let data = FileManager.default.contents(atPath: path(version) + "/" + Self.manifestName) else { return nil }
        return try? SlipwayJSON.decoder().decode(ReleaseInfo.self, from: data)
    }

    /// Every release, oldest first.
    public func list() -> [ReleaseInfo] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !$0.hasPrefix(".") }.compactMap(info).sorted { ($0.createdAt, $0.version) < ($1.createdAt, $1.version) }
    }

    /// Creates `version` from the files in `source` (a directory), or, with `files`, from those paths relative to `source`.
    public func create(version: String, source: String, files: [String]? = nil, creator: String, git: GitProvenance?) throws(SlipwayError) -> ReleaseInfo {
        try ReleaseVersion.validate(version)
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: source, isDirectory: &isDir), isDir.boolValue else {
            throw .usage("release source '\(source)' is not a directory")
        }
        try? fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let staging = directory + "/.tmp-\(version)-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? fm.removeItem(atPath: staging) }
        do {
            if let files {
                guard !files.isEmpty else { throw SlipwayError.usage("release.files is empty; list the files that make a release, or pass --from DIR") }
                try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
                for file in files {
                    let from = source + "/" + file
                    guard fm.fileExists(atPath: from) else { throw SlipwayError.usage("release.files: '\(file)' does not exist in \(source) (did the build produce it?)") }
                    let to = staging + "/" + file
                    try fm.createDirectory(atPath: (to as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    try fm.copyItem(atPath: from, toPath: to)
                }
            } else {
                try fm.copyItem(atPath: source, toPath: staging)
                try? fm.removeItem(atPath: staging + "/" + Self.manifestName)
            }
        } catch let e as SlipwayError {
            throw e
        } catch {
            throw SlipwayError(.failed, "cannot copy the release files", cause: error)
        }
        let (digest, count, bytes) = try Self.digest(of: staging)
        if let existing = info(version) {
            if existing.digest == digest { return existing }
            throw .failed("release \(version) already exists with different content (digest \(existing.digest.prefix(19))…, new \(digest.prefix(19))…); releases are immutable, pick a new version")
        }
        var info = ReleaseInfo(version: version, digest: digest, createdAt: Date(), creator: creator,
                               gitCommit: git?.commit, gitCommitTime: git?.commitTime, files: count, bytes: bytes)
        info.gitBranch = git?.branch
        info.gitTag = git?.tag
        info.gitDirty = git?.dirty
        do {
            let data = try SlipwayJSON.encoder(pretty: true).encode(info)
            try data.write(to: URL(fileURLWithPath: staging + "/" + Self.manifestName))
            try fm.moveItem(atPath: staging, toPath: path(version))
        } catch {
            if let raced = self.info(version), raced.digest == digest { return raced }
            throw SlipwayError(.failed, "cannot store release \(version)", cause: error)
        }
        return info
    }

    /// Makes `version` from a gzipped tar (`archive`, a fleet controller's upload): unpacked into a temporary directory
    /// beside the releases, its content digest checked against `digest`, then renamed into place; nothing is left
    /// behind when it does not match. A release already there with this digest is kept (false: nothing staged).
    public func adopt(version: String, archive: String, digest: String, creator: String) async throws(SlipwayError) -> (ReleaseInfo, staged: Bool) {
        try ReleaseVersion.validate(version)
        if let existing = info(version) {
            guard existing.digest == digest else {
                throw .failed("release \(version) exists on this host with other content (digest \(existing.digest.prefix(19))…, sent \(digest.prefix(19))…); releases are immutable, pick a new version")
            }
            return (existing, false)
        }
        let fm = FileManager.default
        try? fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let staging = directory + "/.tmp-\(version)-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? fm.removeItem(atPath: staging) }
        do { try fm.createDirectory(atPath: staging, withIntermediateDirectories: false) } catch {
            throw SlipwayError(.failed, "cannot create \(staging)", cause: error)
        }
        let status = try await ProcessSpawner.run(argv: ["tar", "-xzf", archive, "-C", staging, "--no-same-owner"], directory: directory,
                                                  environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], logFile: staging + ".log")
        defer { try? fm.removeItem(atPath: staging + ".log") }
        guard status == 0 else {
            let why = (try? String(contentsOfFile: staging + ".log", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            throw .failed("the artifact for release \(version) is not a readable gzipped tar (tar exited \(status): \(why.prefix(200)))")
        }
        try? fm.removeItem(atPath: staging + "/" + Self.manifestName)
        let (actual, count, bytes) = try Self.digest(of: staging)
        guard actual == digest else {
            throw .failed("the artifact for release \(version) does not match its digest (expected \(digest.prefix(19))…, got \(actual.prefix(19))…); nothing was staged")
        }
        let info = ReleaseInfo(version: version, digest: digest, createdAt: Date(), creator: creator, gitCommit: nil, gitCommitTime: nil, files: count, bytes: bytes)
        do {
            try SlipwayJSON.encoder(pretty: true).encode(info).write(to: URL(fileURLWithPath: staging + "/" + Self.manifestName))
            try fm.moveItem(atPath: staging, toPath: path(version))
        } catch {
            if let raced = self.info(version), raced.digest == digest { return (raced, false) }
            throw SlipwayError(.failed, "cannot store release \(version)", cause: error)
        }
        return (info, true)
    }

    /// Removes the oldest releases beyond `keep`, never one in `protected`. Returns what was removed.
    public func prune(keep: Int, protected: Set<String>) -> [String] {
        let all = list()
        guard all.count > keep else { return [] }
        var removed: [String] = []
        var excess = all.count - keep
        for r in all where excess > 0 && !protected.contains(r.version) {
            if (try? FileManager.default.removeItem(atPath: path(r.version))) != nil {
                removed.append(r.version)
                excess -= 1
            }
        }
        return removed
    }

    /// sha256 over every file's relative path, executable bit and content, in path order.
    public static func digest(of dir: String) throws(SlipwayError) -> (String, Int, Int64) {
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: dir) else { throw .failed("cannot read \(dir)") }
        var files: [String] = []
        while let rel = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            if rel != manifestName, fm.fileExists(atPath: dir + "/" + rel, isDirectory: &isDir), !isDir.boolValue { files.append(rel) }
        }
        files.sort()
        var hasher = SHA256()
        var total: Int64 = 0
        for rel in files {
            let full = dir + "/" + rel
            let exec = fm.isExecutableFile(atPath: full) ? "x" : "-"
            hasher.update(data: Data("\(rel)\0\(exec)\0".utf8))
            guard let handle = FileHandle(forReadingAtPath: full) else { throw .failed("cannot read \(full)") }
            defer { try? handle.close() }
            var fileHasher = SHA256()
            while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                fileHasher.update(data: chunk)
                total += Int64(chunk.count)
            }
            hasher.update(data: Data(fileHasher.finalize()))
        }
        let hex = Hex.string(hasher.finalize())
        return ("sha256:" + hex, files.count, total)
    }

    /// What git says about the checkout in `dir`, or nil when it is not one. A detached checkout takes the
    /// branch whose tip is the commit (local first, then `origin/…`), as CI systems check out. Dirty, as in
    /// `git describe --dirty`: tracked files changed (untracked ones, like build output, do not count).
    public static func gitProvenance(of dir: String) -> GitProvenance? {
        guard let commit = capture(["git", "-C", dir, "rev-parse", "HEAD"]), commit.count >= 40 else { return nil }
        var git = GitProvenance(commit: commit)
        git.commitTime = capture(["git", "-C", dir, "log", "-1", "--format=%cI"]).flatMap { ISO8601DateFormatter().date(from: $0) }
        if let head = capture(["git", "-C", dir, "symbolic-ref", "--quiet", "--short", "HEAD"]), !head.isEmpty {
            git.branch = head
        } else if let tips = capture(["git", "-C", dir, "for-each-ref", "--points-at", "HEAD", "--format=%(refname)", "refs/heads", "refs/remotes/origin"]) {
            let refs = tips.split(separator: "\n").map(String.init).filter { !$0.hasSuffix("/HEAD") }
            git.branch = refs.first { $0.hasPrefix("refs/heads/") }.map { String($0.dropFirst("refs/heads/".count)) }
                ?? refs.first.map { String($0.dropFirst("refs/remotes/origin/".count)) }
        }
        git.tag = capture(["git", "-C", dir, "describe", "--exact-match", "--tags", "HEAD"]).flatMap { $0.isEmpty ? nil : $0 }
        git.dirty = !(capture(["git", "-C", dir, "status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty
        return git
    }

    /// Runs a short command (argv, no shell) and returns its trimmed stdout, or nil if it failed.
    public static func capture(_ argv: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
