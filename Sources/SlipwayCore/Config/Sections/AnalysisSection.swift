import Foundation
import Yams

/// `analysis:`: the canary analysis and its metric providers.
enum AnalysisSection {
    /// Parses `analysis:`; each rule's syntax error names its list item and the column in the rule.
    static func analysis(_ node: Node, reader: ConfigReader) -> AnalysisSettings? {
        guard let entries = reader.mapping(node, "analysis", allowed: ["interval", "min_requests", "rules", "providers"]) else { return nil }
        var settings = AnalysisSettings()
        for e in entries {
            let path = "analysis.\(e.key)"
            switch e.key {
            case "interval": settings.interval = reader.duration(e.value, path) ?? settings.interval
            case "min_requests": settings.minRequests = reader.int(e.value, path, min: 1) ?? settings.minRequests
            case "providers":
                guard case .sequence(let items) = e.value else {
                    reader.problem(e.value, path, "expected a list like [{ prometheus: { url: …, query: … }, fail_if: \"value > 10\" }], got \(reader.describe(e.value))")
                    continue
                }
                settings.providers = items.enumerated().compactMap { provider($1, "\(path)[\($0)]", reader: reader) }
            default:
                guard case .sequence(let items) = e.value else {
                    reader.problem(e.value, path, "expected a list of rules like \"error_rate > baseline + 1%\", got \(reader.describe(e.value))")
                    continue
                }
                for (i, item) in items.enumerated() {
                    let itemPath = "\(path)[\(i)]"
                    guard let text = reader.string(item, itemPath) else { continue }
                    do { settings.rules.append(try RuleParser.parse(text)) } catch {
                        reader.problem(item, itemPath, "'\(text)', \(error)")
                    }
                }
            }
        }
        return settings
    }

    private static func provider(_ node: Node, _ path: String, reader: ConfigReader) -> ProviderSettings? {
        guard let entries = reader.mapping(node, path, allowed: ["prometheus", "web", "fail_if"]) else { return nil }
        var source: ProviderSettings.Source?, ca: String?
        var failIf: Rule?
        for e in entries {
            let p = "\(path).\(e.key)"
            switch e.key {
            case "fail_if":
                guard let text = reader.string(e.value, p) else { continue }
                do {
                    let rule = try RuleParser.parse(text)
                    guard rule.metric == .value, !rule.threshold.needsBaseline, rule.sustained == nil else {
                        reader.problem(e.value, p, "'\(text)': a provider's rule compares its value with a number, like \"value > 10\"")
                        continue
                    }
                    failIf = rule
                } catch { reader.problem(e.value, p, "'\(text)', \(error)") }
            default:
                guard let parsed = providerEndpoint(e.key, e.value, p, reader: reader) else { continue }
                if source != nil { reader.problem(e.value, path, "expected one of prometheus or web, not both"); continue }
                (source, ca) = (parsed.source, parsed.ca)
            }
        }
        guard let source else {
            if !entries.contains(where: { $0.key == "prometheus" || $0.key == "web" }) { reader.problem(node, path, "expected prometheus: { url, query } or web: { url }") }
            return nil
        }
        if case .prometheus = source, failIf == nil {
            reader.problem(node, "\(path).fail_if", "missing required key (a rule on the query's value, like \"value > 10\")")
            return nil
        }
        return ProviderSettings(source: source, failIf: failIf, ca: ca)
    }

    /// `prometheus: { url, query, ca }` or `web: { url, ca }` (`key` says which): the source and its `ca` (a PEM
    /// file, relative to the config's directory), checked to be readable.
    static func providerEndpoint(_ key: String, _ node: Node, _ p: String, reader: ConfigReader) -> (source: ProviderSettings.Source, ca: String?)? {
        let keys = key == "prometheus" ? ["url", "query", "ca"] : ["url", "ca"]
        guard let fields = reader.mapping(node, p, allowed: keys) else { return nil }
        var url: HTTPURL?, query: String?, ca: String?
        for f in fields {
            guard let text = reader.string(f.value, "\(p).\(f.key)") else { continue }
            if f.key == "query" { query = text; continue }
            if f.key == "ca" {
                let directory = URL(fileURLWithPath: reader.file).deletingLastPathComponent().path
                let absolute = text.hasPrefix("/") ? text : directory + "/" + text
                if FileManager.default.isReadableFile(atPath: absolute) { ca = absolute } else {
                    reader.problem(f.value, "\(p).ca", "cannot read \(absolute); expected the PEM certificate of the CA that signed the provider's")
                }
                continue
            }
            url = HTTPURL(text)
            if url == nil { reader.problem(f.value, "\(p).url", "expected http://HOST:PORT/PATH or https://HOST/PATH, got '\(text)'") }
        }
        if let ca, let url, !url.tls {
            reader.problem(node, "\(p).ca", "a CA is for an https:// URL; \(url) is plain HTTP (\(ca))")
        }
        if fields.first(where: { $0.key == "url" }) == nil { reader.problem(node, "\(p).url", "missing required key") }
        if key == "prometheus", query == nil { reader.problem(node, "\(p).query", "missing required key (a PromQL expression)") }
        guard let url else { return nil }
        let source: ProviderSettings.Source? = key == "prometheus" ? query.map { .prometheus(url: url, query: $0) } : .web(url: url)
        return source.map { ($0, ca) }
    }
}
