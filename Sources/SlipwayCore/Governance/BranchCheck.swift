/// `branches:`: only releases built from a clean checkout of one of these git branches reach the environment.
public struct BranchCheck: PolicyCheck {
    public let rule = "branch"
    public init() {}

    public func evaluate(_ request: PolicyRequest, _ facts: PolicyFacts) -> PolicyDecision {
        let allowed = facts.governance.branches
        guard request.operation == .deploy, !allowed.isEmpty, let version = request.version else { return .allow }
        let list = allowed.map(\.pattern).joined(separator: ", ")
        guard let release = facts.release, release.gitCommit != nil else {
            return .refuse(PolicyRefusal(rule: rule, reason: "release \(version) records no git commit; '\(request.environment)' takes only releases built from \(list)"))
        }
        guard let branch = release.gitBranch else {
            return .refuse(PolicyRefusal(rule: rule, reason: "release \(version) records no git branch (no branch pointed at its commit when it was built); "
                                             + "'\(request.environment)' takes only releases built from \(list)"))
        }
        guard allowed.contains(where: { $0.matches(branch) }) else {
            return .refuse(PolicyRefusal(rule: rule, reason: "release \(version) was built from branch '\(branch)'; '\(request.environment)' takes only \(list)"))
        }
        if release.gitDirty == true {
            return .refuse(PolicyRefusal(rule: rule, reason: "release \(version) was built from '\(branch)' with uncommitted changes, so its commit does not describe it; "
                                             + "commit them and build a new release"))
        }
        return .allow
    }
}
