import Foundation

/// Where a release's files came from in git: the commit, the branch and tag that point at it, and whether
/// the working tree had changes git does not know about (then the commit does not describe the files).
public struct GitProvenance: Sendable, Equatable {
    public var commit: String
    public var commitTime: Date?
    /// The branch built from; nil when none points at the commit (a detached checkout of an old commit).
    public var branch: String?
    public var tag: String?
    public var dirty: Bool

    public init(commit: String, commitTime: Date? = nil, branch: String? = nil, tag: String? = nil, dirty: Bool = false) {
        self.commit = commit
        self.commitTime = commitTime
        self.branch = branch
        self.tag = tag
        self.dirty = dirty
    }

    /// `refs/heads/main` → branch `main`; `refs/tags/v1.2.0` → tag `v1.2.0`.
    public init(commit: String, ref: String) {
        self.init(commit: commit)
        if ref.hasPrefix("refs/heads/") { branch = String(ref.dropFirst("refs/heads/".count)) }
        if ref.hasPrefix("refs/tags/") { tag = String(ref.dropFirst("refs/tags/".count)) }
    }
}
