import Foundation
import Yams

/// `webhooks:` and `release.git`.
enum WebhooksSection {
    /// `release.git: { repo: PATH }`.
    static func gitSource(_ node: Node, directory: String, reader: ConfigReader) -> GitSourceSettings? {
        guard let entries = reader.mapping(node, "release.git", allowed: ["repo", "poll"]) else { return nil }
        var poll: GitPollSettings?
        if let p = entries.first(where: { $0.key == "poll" }) {
            var settings = GitPollSettings()
            for f in reader.mapping(p.value, "release.git.poll", allowed: ["every", "branch", "deploy_to"]) ?? [] {
                let key = "release.git.poll.\(f.key)"
                switch f.key {
                case "every":
                    if let d = reader.duration(f.value, key) {
                        if d < .seconds(1) { reader.problem(f.value, key, "expected at least 1s, got \(reader.describe(f.value))") } else { settings.every = d }
                    }
                case "branch":
                    if let b = reader.string(f.value, key) {
                        if b.isEmpty || b.contains("..") || b.hasPrefix("-") || b.contains(where: { " ~^:?*[\\".contains($0) }) {
                            reader.problem(f.value, key, "expected a branch name like main, got '\(b)'")
                        } else { settings.branch = b }
                    }
                default: settings.deployTo = reader.string(f.value, key)
                }
            }
            poll = settings
        }
        guard let e = entries.first(where: { $0.key == "repo" }), let path = reader.string(e.value, "release.git.repo") else {
            reader.problem(node, "release.git.repo", "missing required key (the git repository webhooks build releases from)")
            return nil
        }
        let repo = path.hasPrefix("/") ? path : directory + "/" + path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: repo, isDirectory: &isDir), isDir.boolValue else {
            reader.problem(e.value, "release.git.repo", "\(repo) is not a directory; expected a git repository (bare or a clone)")
            return nil
        }
        return GitSourceSettings(repo: repo, poll: poll)
    }

    /// `webhooks: [{ provider, secret, on: { push | tag: PATTERN(S) }, deploy_to, answer_within }]`.
    static func webhookList(_ node: Node, environments: [String], release: ReleaseSettings, reader: ConfigReader) -> [WebhookSettings] {
        guard case .sequence(let items) = node else {
            reader.problem(node, "webhooks", "expected a list of { provider, secret, on, deploy_to }")
            return []
        }
        if release.git == nil, !items.isEmpty {
            reader.problem(node, "webhooks", "webhooks build releases from git: add release.git: { repo: /path/to/repo.git }")
        }
        var hooks: [WebhookSettings] = []
        for (i, item) in items.enumerated() {
            let path = "webhooks[\(i)]"
            guard let entries = reader.mapping(item, path, allowed: ["provider", "secret", "on", "deploy_to", "answer_within"]) else { continue }
            func value(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
            var provider: WebhookSettings.Provider?, secret: String?, trigger: WebhookSettings.Trigger?, deployTo: String?
            if let n = value("provider"), let s = reader.string(n, "\(path).provider") {
                provider = WebhookSettings.Provider(rawValue: s)
                if provider == nil { reader.problem(n, "\(path).provider", "expected github or gitlab, got '\(s)'") }
            }
            if let n = value("secret"), let s = reader.string(n, "\(path).secret") {
                if ConfigReader.isSecretName(s) { secret = s } else {
                    reader.problem(n, "\(path).secret", "expected the NAME of a secret (set in secrets.env or the daemon's environment), not a value")
                }
            }
            if let n = value("on") { trigger = webhookTrigger(n, "\(path).on", reader: reader) }
            if let n = value("deploy_to"), let s = reader.string(n, "\(path).deploy_to") {
                if environments.contains(s) { deployTo = s } else {
                    reader.problem(n, "\(path).deploy_to", "expected an environment (\(environments.joined(separator: ", "))), got '\(s)'")
                }
            }
            var answerWithin = WebhookSettings.defaultAnswerWithin
            if let n = value("answer_within"), let d = reader.duration(n, "\(path).answer_within", allowZero: true) { answerWithin = d }
            for key in ["provider", "secret", "on", "deploy_to"] where value(key) == nil {
                reader.problem(item, "\(path).\(key)", "missing required key")
            }
            if let provider, let secret, let trigger, let deployTo {
                hooks.append(WebhookSettings(provider: provider, secret: secret, on: trigger, deployTo: deployTo, answerWithin: answerWithin))
            }
        }
        return hooks
    }

    static func webhookTrigger(_ node: Node, _ path: String, reader: ConfigReader) -> WebhookSettings.Trigger? {
        guard let entries = reader.mapping(node, path, allowed: ["push", "tag"]) else { return nil }
        guard entries.count == 1, let e = entries.first else {
            reader.problem(node, path, "expected one of push: BRANCH or tag: PATTERN")
            return nil
        }
        let patterns: [String]?
        if case .sequence = e.value { patterns = reader.stringList(e.value, "\(path).\(e.key)") } else { patterns = reader.string(e.value, "\(path).\(e.key)").map { [$0] } }
        guard let patterns, !patterns.isEmpty, !patterns.contains(where: { $0.isEmpty || $0.hasPrefix("refs/") }) else {
            reader.problem(e.value, "\(path).\(e.key)", "expected a branch or tag name or pattern like main, release/* or v*")
            return nil
        }
        let globs = patterns.map(GlobPattern.init)
        return e.key == "push" ? .push(globs) : .tag(globs)
    }
}
