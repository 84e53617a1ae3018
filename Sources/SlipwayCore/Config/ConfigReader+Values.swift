import Foundation
import Yams

/// Values every section reads the same way: booleans, cron schedules, secret names, paths under the root.
extension ConfigReader {
    func cron(_ node: Node, _ path: String) -> CronSchedule? {
        guard let s = string(node, path) else { return nil }
        do { return try CronSchedule(parsing: s) } catch {
            problem(node, path, error.message)
            return nil
        }
    }

    func bool(_ node: Node, _ path: String) -> Bool? {
        guard case .scalar = node, let b = node.bool else {
            problem(node, path, "expected true or false, got \(describe(node))")
            return nil
        }
        return b
    }

    /// A command line (run as argv, no shell): one that does not split is a problem.
    func command(_ node: Node, _ path: String) -> String? {
        guard let s = string(node, path) else { return nil }
        do { _ = try CommandLineSplitter.split(s) } catch {
            problem(node, path, "expected a command line: \(error.message)")
            return nil
        }
        return s
    }

    func secretName(_ node: Node, _ path: String) -> String? {
        guard let s = string(node, path) else { return nil }
        guard Self.isEnvName(s) else {
            // The value is not echoed: it may be the secret itself, pasted in by mistake.
            problem(node, path, "expected the NAME of a secret like DATABASE_URL (its value goes in secrets.env or the daemon's environment); the value given is not shown")
            return nil
        }
        return s
    }

    static func absolute(_ path: String, root: String) -> String {
        URL(fileURLWithPath: path.hasPrefix("/") ? path : root + "/" + path).standardizedFileURL.path
    }

    /// A source path: relative `shared/...` means the environment's own `<root>/shared/<env>/...`.
    static func absolute(_ path: String, root: String, environment: String) -> String {
        if path == "shared" || path.hasPrefix("shared/") {
            return Self.absolute("shared/\(environment)" + path.dropFirst("shared".count), root: root)
        }
        return Self.absolute(path, root: root)
    }

    static func isEnvName(_ s: String) -> Bool {
        guard let first = s.first, first == "_" || (first.isASCII && first.isUppercase) else { return false }
        return s.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isUppercase || $0.isNumber)) }
    }

    static func isSecretName(_ s: String) -> Bool { s.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil }
}
