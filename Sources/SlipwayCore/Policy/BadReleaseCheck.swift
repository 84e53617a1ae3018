/// A release the post-deploy watch (or, later, canary analysis) rolled back is remembered as bad in its
/// environment: deploying it there again is refused unless the operator passes `--force`.
public struct BadReleaseCheck: PolicyCheck {
    public let rule = "bad_release"
    public init() {}

    public func evaluate(_ request: PolicyRequest, _ facts: PolicyFacts) -> PolicyDecision {
        guard request.operation == .deploy, !request.force, let version = request.version, let why = facts.badReleases[version] else { return .allow }
        return .refuse(PolicyRefusal(rule: rule, reason: "release \(version) was rolled back in '\(request.environment)' (\(why)); "
                                         + "fix it in a new release, or deploy it again with --force"))
    }
}
