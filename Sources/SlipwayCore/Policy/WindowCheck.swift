import Foundation

/// Deploys only inside one of the environment's `windows` (when it has any). Rollbacks, scaling and
/// restores are never held to windows. `--override-window` with a reason lets an admin through (audited).
public struct WindowCheck: PolicyCheck {
    public let rule = "window"
    public init() {}

    public func evaluate(_ request: PolicyRequest, _ facts: PolicyFacts) -> PolicyDecision {
        let windows = facts.governance.windows
        guard request.operation == .deploy, !windows.isEmpty, !request.overrideWindow else { return .allow }
        if windows.contains(where: { $0.contains(facts.now) }) { return .allow }
        let opens = windows.compactMap { $0.nextOpening(after: facts.now) }.min()
        return .refuse(PolicyRefusal(rule: rule, reason: "'\(request.environment)' takes deploys only inside its windows ("
                                         + windows.map(\.description).joined(separator: "; ") + ")"
                                         + (opens.map { "; the next opens at \(PolicyRefusal.stamp($0, windows[0].timezone))" } ?? "")
                                         + "; an admin may pass --override-window --reason \"…\"", passesAt: opens))
    }
}

/// No deploy inside a freeze; rollbacks too when `rollback_in_freeze: false`. `--override-window` with a
/// reason lets an admin through (audited).
public struct FreezeCheck: PolicyCheck {
    public let rule = "freeze"
    public init() {}

    public func evaluate(_ request: PolicyRequest, _ facts: PolicyFacts) -> PolicyDecision {
        let g = facts.governance
        guard request.operation == .deploy || (request.operation == .rollback && !g.rollbackInFreeze), !request.overrideWindow else { return .allow }
        var active: [(DeployFreeze, Date)] = []
        for f in g.freezes { if let end = f.activeUntil(facts.now) { active.append((f, end)) } }
        guard let (freeze, _) = active.first else { return .allow }
        let end = active.map(\.1).max()!
        return .refuse(PolicyRefusal(rule: rule, reason: "'\(request.environment)' is frozen (\(freeze.name)) until \(PolicyRefusal.stamp(end, freeze.timezone)); "
                                         + "an admin may pass --override-window --reason \"…\"", passesAt: end))
    }
}

extension PolicyRefusal {
    /// `2026-12-21 09:00 Europe/Berlin (08:00Z)`.
    public static func stamp(_ date: Date, _ zone: TimeZone) -> String {
        let local = DateFormatter()
        local.locale = Locale(identifier: "en_US_POSIX")
        local.timeZone = zone
        local.dateFormat = "yyyy-MM-dd HH:mm"
        let utc = DateFormatter()
        utc.locale = Locale(identifier: "en_US_POSIX")
        utc.timeZone = TimeZone(identifier: "UTC")
        utc.dateFormat = "yyyy-MM-dd HH:mm'Z'"
        return "\(local.string(from: date)) \(zone.identifier) (\(utc.string(from: date)))"
    }
}
