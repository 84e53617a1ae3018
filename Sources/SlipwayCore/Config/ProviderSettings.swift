/// `analysis.providers`: external signals judged beside the router's figures, every interval.
/// `{ prometheus: { url, query }, fail_if: "value > 10" }` fails when the query's number makes the rule
/// true; `{ web: { url } }` fails when the URL answers `{"ok": false}` (or, with `fail_if`, on its
/// `"value"`). An unreachable provider or an empty answer holds: never a pass, never a fail.
public struct ProviderSettings: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case prometheus(url: HTTPURL, query: String)
        case web(url: HTTPURL)
    }
    public var source: Source
    /// A rule on `value`.
    public var failIf: Rule?
    /// For an https:// URL: a PEM file of the CA that signed the provider's certificate (a private CA);
    /// without it the system's trust roots verify it.
    public var ca: String?

    public init(source: Source, failIf: Rule? = nil, ca: String? = nil) {
        self.source = source
        self.ca = ca
        self.failIf = failIf
    }

    /// `prometheus sum(rate(app_errors_total[1m]))`, `web http://127.0.0.1:7000/check`: for verdicts.
    public var name: String {
        switch source {
        case .prometheus(_, let query): "prometheus \(query)"
        case .web(let url): "web \(url)"
        }
    }
}

/// An `http://` or `https://` `host:port/path` URL (the port defaults to 80 or 443).
public struct HTTPURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var path: String
    /// https: the certificate is verified (the system's roots, or the provider's `ca`).
    public var tls: Bool

    public init?(_ text: String) {
        if text.hasPrefix("https://") { tls = true } else if text.hasPrefix("http://") { tls = false } else { return nil }
        let rest = text.dropFirst(tls ? "https://".count : "http://".count)
        let hostPort = rest.prefix { $0 != "/" && $0 != "?" }
        var path = String(rest.dropFirst(hostPort.count))
        if path.isEmpty { path = "/" }
        if path.hasPrefix("?") { path = "/" + path }
        let parts = hostPort.split(separator: ":", omittingEmptySubsequences: false)
        guard let h = parts.first, !h.isEmpty, parts.count <= 2 else { return nil }
        host = String(h)
        if parts.count == 2 {
            guard let p = Int(parts[1]), (1...65535).contains(p) else { return nil }
            port = p
        } else {
            port = tls ? 443 : 80
        }
        self.path = path
    }

    public var description: String { "\(tls ? "https" : "http")://\(host):\(port)\(path)" }
}

/// What one provider said in one interval.
public struct ProviderReading: Sendable, Equatable {
    public var name: String
    public var value: Double?
    public var ok: Bool?
    /// Why there is no answer (unreachable, not JSON, an empty result).
    public var error: String?
    public init(name: String, value: Double? = nil, ok: Bool? = nil, error: String? = nil) {
        self.name = name
        self.value = value
        self.ok = ok
        self.error = error
    }

    /// The provider's verdict: a fail names what it saw, a hold why there is nothing to judge.
    public func outcome(_ settings: ProviderSettings) -> RuleOutcome {
        if let error { return RuleOutcome(rule: name, verdict: .hold, detail: error) }
        if ok == false { return RuleOutcome(rule: name, verdict: .fail, detail: "answered ok: false", observed: value) }
        if let rule = settings.failIf {
            guard let value else { return RuleOutcome(rule: name, verdict: .hold, detail: "no value") }
            let threshold = rule.threshold.value(baseline: nil) ?? 0
            let failed = rule.comparison.holds(value, threshold)
            return RuleOutcome(rule: "\(name): \(rule.text)", verdict: failed ? .fail : .pass,
                               detail: "value \(value) \(failed ? "" : "not ")\(rule.comparison.rawValue) \(threshold)", observed: value, threshold: threshold)
        }
        guard ok != nil else { return RuleOutcome(rule: name, verdict: .hold, detail: "no \"ok\" in the answer") }
        return RuleOutcome(rule: name, verdict: .pass, detail: "answered ok: true", observed: value)
    }
}
