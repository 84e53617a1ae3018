import Foundation
import SlipwayCore
import SlipwayRuntime
import SlipwayStore

extension Releases {
    /// `git archive` of `git.commit` from `release.git.repo`, then `release.build` in that tree, then the
    /// release (from `release.files`, or the whole tree). The same commit again returns the release it made.
    func fromCommit(_ git: GitProvenance, version: String, actor: Principal) async throws(SlipwayError) -> ReleaseInfo {
        let cfg = try await context.reloadConfig()
        guard let repo = cfg.release.git?.repo else { throw .usage("webhooks need release.git.repo in \(cfg.file)") }
        let env = ProcessInfo.processInfo.environment
        let log = "\(cfg.logsDirectory)/build-\(version).log"
        func git_(_ args: [String]) async throws(SlipwayError) -> Int32 {
            try await ProcessSpawner.run(argv: ["git", "-C", repo] + args, directory: cfg.root, environment: env, logFile: log)
        }
        let object = git.commit + "^{commit}"
        if try await git_(["cat-file", "-e", object]) != 0 {
            // A mirror may not have it yet: fetch once (no remote: nothing to fetch, and the check below says so).
            _ = try await git_(["fetch", "--quiet", "origin"])
            guard try await git_(["cat-file", "-e", object]) == 0 else {
                throw .failed("commit \(git.commit) is not in \(repo); push it there (or let the mirror fetch it), then redeliver")
            }
        }
        var provenance = git
        // An annotated tag's push names the tag object; the release records the commit it points at.
        if let commit = ReleaseStore.capture(["git", "-C", repo, "rev-parse", "--verify", object]), commit.count >= 40 { provenance.commit = commit }
        if provenance.branch == nil {
            // A tag names no branch: record one that holds the commit, one whose tip it is first.
            func branches(_ filter: String) -> [String] {
                (ReleaseStore.capture(["git", "-C", repo, "for-each-ref", filter, provenance.commit, "--format=%(refname:short)", "refs/heads"]) ?? "")
                    .split(separator: "\n").map(String.init)
            }
            provenance.branch = branches("--points-at").first ?? branches("--contains").first
        }
        if let existing = releases.info(version) {
            guard existing.gitCommit == provenance.commit else {
                throw .failed("release \(version) already exists from commit \(existing.gitCommit ?? "(none)"); releases are immutable, so \(provenance.commit.prefix(12)) needs another tag")
            }
            return existing
        }
        let work = "\(cfg.root)/build/\(version)-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: work) }
        do { try FileManager.default.createDirectory(atPath: work + "/tree", withIntermediateDirectories: true) } catch {
            throw SlipwayError(.failed, "cannot create \(work)", cause: error)
        }
        guard try await git_(["archive", "--format=tar", "--output=\(work)/tree.tar", git.commit]) == 0,
              try await ProcessSpawner.run(argv: ["tar", "-xf", "\(work)/tree.tar", "-C", "\(work)/tree"], directory: work, environment: env, logFile: log) == 0
        else { throw .failed("cannot export commit \(git.commit.prefix(12)) from \(repo); see \(log)") }
        provenance.commitTime = ReleaseStore.capture(["git", "-C", repo, "log", "-1", "--format=%cI", provenance.commit]).flatMap { ISO8601DateFormatter().date(from: $0) }
        let tree = work + "/tree"
        if let build = cfg.release.build {
            var buildEnv = env
            buildEnv["SLIPWAY_GIT_COMMIT"] = provenance.commit
            buildEnv["SLIPWAY_GIT_REF"] = git.tag.map { "refs/tags/\($0)" } ?? git.branch.map { "refs/heads/\($0)" }
            let argv = try CommandLineSplitter.split(build, variables: buildEnv)
            let status = try await ProcessSpawner.run(argv: argv, directory: tree, environment: buildEnv, logFile: log)
            guard status == 0 else {
                if Task.isCancelled { throw SlipwayError(.unavailable, "the daemon stopped during the build of \(git.commit.prefix(12)); redeliver once it is back") }
                try store.audit(actor, action: "release.create", target: version, outcome: "failed", detail: "build of \(git.commit.prefix(12)) exited \(status)")
                throw .failed("release.build exited with status \(status) for commit \(git.commit.prefix(12)); see \(log)")
            }
        }
        let files = cfg.release.files.isEmpty ? nil : cfg.release.files
        let info = try releases.create(version: version, source: tree, files: files, creator: actor.name, git: provenance)
        try store.audit(actor, action: "release.create", target: version, outcome: "ok", detail: "\(info.digest) from \(provenance.commit)")
        return info
    }
}
