import Foundation
import SlipwayCore

/// Secrets named in the configuration, looked up per environment: `<root>/secrets/<env>.env` first, then
/// the common `<root>/secrets.env`, then the daemon's environment. Values are only ever placed in an
/// instance's (or a backup tool's) environment: never logged, audited or returned; `source(of:)` says
/// where a name comes from without its value.
public struct Secrets: Sendable {
    /// Where a value was found.
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        case environmentFile(String)
        case commonFile
        case daemonEnvironment

        public var description: String {
            switch self {
            case .environmentFile(let env): "secrets/\(env).env"
            case .commonFile: "secrets.env"
            case .daemonEnvironment: "the daemon's environment"
            }
        }
    }

    /// Each name with where it comes from for `environment` (nil: not set). Names only, never values.
    public func sources(of names: [String], environment: String) -> [SecretInfo] {
        names.map { SecretInfo(name: $0, source: source(of: $0, environment: environment)?.description) }
    }

    /// The same, for several environments' names.
    public func sources(of names: [String: [String]]) -> [String: [SecretInfo]] {
        Dictionary(uniqueKeysWithValues: names.map { env, list in (env, sources(of: list, environment: env)) })
    }

    let perEnvironment: [String: [String: String]]
    let common: [String: String]
    let process: [String: String]

    public init(root: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        common = Self.read(root + "/secrets.env")
        var files: [String: [String: String]] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/secrets")) ?? [] where name.hasSuffix(".env") {
            files[String(name.dropLast(4))] = Self.read("\(root)/secrets/\(name)")
        }
        perEnvironment = files
        process = environment
    }

    /// Where `name` comes from for `environment` (nil: not set anywhere).
    public func source(of name: String, environment: String) -> Source? {
        if perEnvironment[environment]?[name] != nil { return .environmentFile(environment) }
        if common[name] != nil { return .commonFile }
        if process[name] != nil { return .daemonEnvironment }
        return nil
    }

    /// The values for `names` in `environment`; a missing one is a usage error naming it (never its value).
    public func resolve(_ names: [String], environment: String) throws(SlipwayError) -> [String: String] {
        var out: [String: String] = [:]
        for name in names {
            guard let value = perEnvironment[environment]?[name] ?? common[name] ?? process[name] else {
                throw .usage("secret \(name) is not set for '\(environment)': add \(name)=… to secrets/\(environment).env (or the common "
                             + "secrets.env) in the root, or export it in the daemon's environment")
            }
            out[name] = value
        }
        return out
    }

    /// `NAME=value` lines; `#` comments and blank lines skipped; one pair of quotes around a value removed.
    static func read(_ path: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var v: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard !t.isEmpty, !t.hasPrefix("#"), let eq = t.firstIndex(of: "=") else { continue }
            var value = String(t[t.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
            if value.count >= 2, (value.hasPrefix("\"") && value.hasSuffix("\"")) || (value.hasPrefix("'") && value.hasSuffix("'")) {
                value = String(value.dropFirst().dropLast())
            }
            v[String(t[..<eq]).trimmingCharacters(in: .whitespaces)] = value
        }
        return v
    }
}
