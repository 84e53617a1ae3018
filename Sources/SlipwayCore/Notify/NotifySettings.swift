/// One `notify:` entry: where notifications go, which events, and from which severity on.
public struct NotifySettings: Sendable, Equatable {
    public enum Channel: Sendable, Equatable {
        /// POSTs the event as JSON, signed with the secret (`X-Slipway-Signature`) when one is named.
        case webhook(url: String, secret: String?)
        /// Slack's incoming-webhook format; the URL itself is a secret.
        case slack(urlSecret: String)
        /// Runs argv with the event in its environment; exit 0 means delivered.
        case command([String])
    }

    public var channel: Channel
    public var categories: Set<NotificationCategory>
    /// Only events at least this severe (an event without one counts as P3, a failure as P2).
    public var minSeverity: Severity?
    /// Alert notifications wait this long so that alerts of one environment starting together go out as one
    /// message (`group_wait`, default 10s; 0s sends each at once).
    public var groupWait: Duration

    public static let defaultGroupWait = Duration.seconds(10)

    public init(channel: Channel, categories: Set<NotificationCategory>, minSeverity: Severity? = nil, groupWait: Duration = Self.defaultGroupWait) {
        self.channel = channel
        self.categories = categories
        self.minSeverity = minSeverity
        self.groupWait = groupWait
    }

    /// A stable name for the channel (its kind and a digest of where it goes), used in idempotency keys
    /// and the log; never the URL (a Slack URL is a secret).
    public var channelId: String {
        let identity: String
        switch channel {
        case .webhook(let url, _): identity = "webhook " + url
        case .slack(let name): identity = "slack " + name
        case .command(let argv): identity = "command " + argv.joined(separator: "\u{1F}")
        }
        // FNV-1a: stable across runs and platforms (Hasher is seeded per process).
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in identity.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let kind = switch channel {
        case .webhook: "webhook"
        case .slack: "slack"
        case .command: "command"
        }
        return kind + "-" + String(h, radix: 16)
    }
}

/// What a notification is about, as `notify[].events` names it.
public enum NotificationCategory: String, Sendable, Codable, CaseIterable {
    case deploy, rollback, alert, incident, backup, approval
}
