import Foundation
import Yams

/// `windows:`, `freezes:`, `rollback_in_freeze:`, `promote_from:`, `soak:`, `approvals:`, `branches:`, `order:`.
enum GovernanceSection {
    /// `windows:`, `freezes:` and `rollback_in_freeze:` of an environment (or the top level).
    static func governance(windows: Node?, freezes: Node?, rollbackInFreeze: Node?, reader: ConfigReader) -> GovernanceSettings {
        var g = GovernanceSettings()
        if let windows { g.windows = list(windows, "windows", reader: reader).compactMap { window($1, "windows[\($0)]", reader: reader) } }
        if let freezes { g.freezes = list(freezes, "freezes", reader: reader).compactMap { freeze($1, "freezes[\($0)]", reader: reader) } }
        if let rollbackInFreeze { g.rollbackInFreeze = reader.bool(rollbackInFreeze, "rollback_in_freeze") ?? true }
        return g
    }

    private static func list(_ node: Node, _ path: String, reader: ConfigReader) -> [(Int, Node)] {
        guard case .sequence(let items) = node else {
            reader.problem(node, path, "expected a list, got \(reader.describe(node))")
            return []
        }
        return Array(items.enumerated())
    }

    private static func zone(_ node: Node?, _ path: String, reader: ConfigReader) -> TimeZone? {
        guard let node else { return TimeZone(identifier: "UTC") }
        guard let name = reader.string(node, path) else { return nil }
        guard let tz = TimeZone(identifier: name) else {
            reader.problem(node, path, "expected an IANA time zone like Europe/Berlin or UTC, got '\(name)'")
            return nil
        }
        return tz
    }

    /// `HH:MM` as minutes after midnight (24:00 allowed as an end).
    private static func clock(_ node: Node?, _ path: String, reader: ConfigReader) -> Int? {
        guard let node else {
            reader.problem(nil, path, "missing required key (a time like 09:00)")
            return nil
        }
        guard let text = reader.string(node, path) else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440 else {
            reader.problem(node, path, "expected a time like 09:00, got '\(text)'")
            return nil
        }
        return h * 60 + m
    }

    private static func window(_ node: Node, _ path: String, reader: ConfigReader) -> DeployWindow? {
        guard let entries = reader.mapping(node, path, allowed: ["days", "from", "to", "timezone"]) else { return nil }
        func value(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
        var days: Set<Int> = []
        if let d = value("days") {
            for name in reader.stringList(d, "\(path).days") ?? [] {
                guard let i = DeployWindow.dayNames.firstIndex(of: name.lowercased().prefix(3).description), name.count >= 3 else {
                    reader.problem(d, "\(path).days", "expected days like mon, tue … sun, got '\(name)'")
                    continue
                }
                days.insert(i + 1)
            }
        }
        let from = clock(value("from"), "\(path).from", reader: reader), to = clock(value("to"), "\(path).to", reader: reader)
        guard let from, let to, let tz = zone(value("timezone"), "\(path).timezone", reader: reader) else { return nil }
        guard from != to else {
            reader.problem(value("to"), "\(path).to", "a window from \(DeployWindow.clock(from)) to the same time is empty")
            return nil
        }
        return DeployWindow(days: days, from: from, to: to % 1440, timezone: tz)
    }

    private static func freeze(_ node: Node, _ path: String, reader: ConfigReader) -> DeployFreeze? {
        guard let entries = reader.mapping(node, path, allowed: ["name", "from", "to", "cron", "duration", "timezone"]) else { return nil }
        func value(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
        guard let nameNode = value("name") else {
            reader.problem(node, "\(path).name", "missing required key")
            return nil
        }
        guard let name = reader.string(nameNode, "\(path).name"), let tz = zone(value("timezone"), "\(path).timezone", reader: reader) else { return nil }
        if let cronNode = value("cron") {
            guard value("from") == nil, value("to") == nil else {
                reader.problem(node, path, "a freeze is either one-off (from, to) or recurring (cron, duration), not both")
                return nil
            }
            guard let text = reader.string(cronNode, "\(path).cron") else { return nil }
            let cron: CronSchedule
            do { cron = try CronSchedule(parsing: text) } catch {
                reader.problem(cronNode, "\(path).cron", error.message)
                return nil
            }
            guard let d = value("duration") else {
                reader.problem(node, "\(path).duration", "missing required key (how long each freeze lasts, like 62h)")
                return nil
            }
            guard let duration = reader.duration(d, "\(path).duration") else { return nil }
            return DeployFreeze(name: name, span: .recurring(cron, duration), timezone: tz)
        }
        let from = moment(value("from"), "\(path).from", tz, reader: reader), to = moment(value("to"), "\(path).to", tz, reader: reader)
        guard let from, let to else { return nil }
        guard to > from else {
            reader.problem(value("to"), "\(path).to", "the freeze ends before it starts")
            return nil
        }
        return DeployFreeze(name: name, span: .once(from: from, to: to), timezone: tz)
    }

    /// `2026-12-20T00:00` (or with seconds) in `tz`.
    private static func moment(_ node: Node?, _ path: String, _ tz: TimeZone, reader: ConfigReader) -> Date? {
        guard let node else {
            reader.problem(nil, path, "missing required key (a local time like 2026-12-20T00:00, or use cron and duration)")
            return nil
        }
        guard let text = reader.string(node, path) else { return nil }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = tz
        for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd"] {
            f.dateFormat = format
            if let d = f.date(from: text) { return d }
        }
        reader.problem(node, path, "expected a local time like 2026-12-20T00:00, got '\(text)'")
        return nil
    }

    /// `promote_from`, `soak`, `branches`, `order`, `approvals: { required, roles, expire_after }`.
    static func promotion(_ g: inout GovernanceSettings, value: (String) -> Node?, reader: ConfigReader) {
        if let promoteFrom = value("promote_from") { g.promoteFrom = reader.string(promoteFrom, "promote_from") }
        if let soak = value("soak") { g.soak = reader.duration(soak, "soak", allowZero: true) ?? .zero }
        if let order = value("order") { g.order = reader.int(order, "order", min: 0, max: 1000) }
        if let branches = value("branches") {
            for (i, b) in (reader.stringList(branches, "branches") ?? []).enumerated() {
                if b.isEmpty || b.hasPrefix("refs/") || b.contains(" ") {
                    reader.problem(branches, "branches[\(i)]", "expected a branch name or pattern like main or release/*, got '\(b)'")
                } else {
                    g.branches.append(GlobPattern(b))
                }
            }
        }
        guard let approvals = value("approvals") else { return }
        guard let entries = reader.mapping(approvals, "approvals", allowed: ["required", "roles", "expire_after"]) else { return }
        var a = ApprovalSettings(required: 1)
        for e in entries {
            let path = "approvals.\(e.key)"
            switch e.key {
            case "required": a.required = reader.int(e.value, path, min: 1, max: 10) ?? 1
            case "expire_after": a.expireAfter = reader.duration(e.value, path) ?? a.expireAfter
            default:
                var roles: [Role] = []
                for name in reader.stringList(e.value, path) ?? [] {
                    guard let r = Role(rawValue: name) else {
                        reader.problem(e.value, path, "expected roles among viewer, deployer, approver, admin, got '\(name)'")
                        continue
                    }
                    roles.append(r)
                }
                if !roles.isEmpty { a.roles = roles }
            }
        }
        g.approvals = a
    }
}
