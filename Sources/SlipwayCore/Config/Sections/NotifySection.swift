import Foundation
import Yams

/// `notify:`: channels and what each receives.
enum NotifySection {
    /// `notify: [{ webhook: URL, secret: NAME | slack: { url_secret: NAME } | command: [argv], events: [...], min_severity: P1, group_wait: 10s }]`.
    static func notifyList(_ node: Node, reader: ConfigReader) -> [NotifySettings] {
        guard case .sequence(let items) = node else {
            reader.problem(node, "notify", "expected a list of { webhook | slack | command, events, min_severity }")
            return []
        }
        let categories = NotificationCategory.allCases.map(\.rawValue).joined(separator: ", ")
        var out: [NotifySettings] = []
        for (i, item) in items.enumerated() {
            let path = "notify[\(i)]"
            guard let entries = reader.mapping(item, path, allowed: ["webhook", "secret", "slack", "command", "events", "min_severity", "group_wait"]) else { continue }
            func value(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
            let kinds = entries.map(\.key).filter { ["webhook", "slack", "command"].contains($0) }
            guard kinds.count == 1, let kind = kinds.first, let node = value(kind) else {
                reader.problem(item, path, "expected exactly one of webhook: URL, slack: { url_secret: NAME } or command: [argv]")
                continue
            }
            var channel: NotifySettings.Channel?
            var secret: String?
            if let n = value("secret"), let s = reader.string(n, "\(path).secret") {
                if ConfigReader.isSecretName(s) { secret = s } else { reader.problem(n, "\(path).secret", "expected the NAME of a secret (in secrets.env or the daemon's environment), not a value") }
                if kind != "webhook" { reader.problem(n, "\(path).secret", "secret goes with webhook (a Slack URL is itself the secret: slack: { url_secret: NAME })") }
            }
            switch kind {
            case "webhook":
                if let url = reader.string(node, "\(path).webhook") {
                    if let u = URL(string: url), ["http", "https"].contains(u.scheme ?? ""), u.host != nil { channel = .webhook(url: url, secret: secret) }
                    else { reader.problem(node, "\(path).webhook", "expected an http:// or https:// URL, got '\(url)'") }
                }
            case "slack":
                if let fields = reader.mapping(node, "\(path).slack", allowed: ["url_secret"]) {
                    if let f = fields.first, let name = reader.string(f.value, "\(path).slack.url_secret") {
                        if ConfigReader.isSecretName(name) { channel = .slack(urlSecret: name) } else { reader.problem(f.value, "\(path).slack.url_secret", "expected the NAME of the secret that holds the URL") }
                    } else if fields.isEmpty { reader.problem(node, "\(path).slack.url_secret", "missing required key") }
                }
            default:
                if let argv = reader.stringList(node, "\(path).command") {
                    if argv.isEmpty || argv[0].isEmpty { reader.problem(node, "\(path).command", "expected [program, args…]") } else { channel = .command(argv) }
                }
            }
            var wanted = Set<NotificationCategory>()
            if let n = value("events"), let names = reader.stringList(n, "\(path).events") {
                for name in names {
                    if let c = NotificationCategory(rawValue: name) { wanted.insert(c) } else { reader.problem(n, "\(path).events", "expected some of \(categories), got '\(name)'") }
                }
            } else if value("events") == nil {
                reader.problem(item, "\(path).events", "missing required key (some of \(categories))")
            }
            var minSeverity: Severity?
            if let n = value("min_severity"), let s = reader.string(n, "\(path).min_severity") {
                minSeverity = Severity(rawValue: s.uppercased())
                if minSeverity == nil { reader.problem(n, "\(path).min_severity", "expected P0, P1, P2 or P3, got '\(s)'") }
            }
            var groupWait = NotifySettings.defaultGroupWait
            if let n = value("group_wait") { groupWait = reader.duration(n, "\(path).group_wait", allowZero: true) ?? groupWait }
            if let channel, !wanted.isEmpty { out.append(NotifySettings(channel: channel, categories: wanted, minSeverity: minSeverity, groupWait: groupWait)) }
        }
        return out
    }

}
