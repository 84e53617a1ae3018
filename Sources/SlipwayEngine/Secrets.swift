import Foundation
import SlipwayCore

/// Secrets named in `process.secrets`, from the daemon's environment or `<root>/secrets.env`.
/// Values are only ever placed in an instance's environment: never logged, audited or returned.
public struct Secrets: Sendable {
    let values: [String: String]

    public init(root: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        var v: [String: String] = [:]
        if let text = try? String(contentsOfFile: root + "/secrets.env", encoding: .utf8) {
            for line in text.split(whereSeparator: \.isNewline) {
                let t = line.trimmingCharacters(in: .whitespaces)
                guard !t.isEmpty, !t.hasPrefix("#"), let eq = t.firstIndex(of: "=") else { continue }
                var value = String(t[t.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
                if value.count >= 2, (value.hasPrefix("\"") && value.hasSuffix("\"")) || (value.hasPrefix("'") && value.hasSuffix("'")) {
                    value = String(value.dropFirst().dropLast())
                }
                v[String(t[..<eq]).trimmingCharacters(in: .whitespaces)] = value
            }
        }
        for (k, value) in environment { v[k] = v[k] ?? value }
        values = v
    }

    /// The values for `names`; a missing one is a usage error naming it (never its value).
    public func resolve(_ names: [String]) throws(SlipwayError) -> [String: String] {
        var out: [String: String] = [:]
        for name in names {
            guard let value = values[name] else {
                throw .usage("secret \(name) is not set: export it in the daemon's environment or add \(name)=… to secrets.env in the root")
            }
            out[name] = value
        }
        return out
    }
}
