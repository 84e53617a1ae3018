import Foundation

/// Reads one rule. A mistake is a `RuleSyntaxError` with the column (1-based) where reading stopped and
/// what was expected there; the config loader adds file, line and key.
public enum RuleParser {
    public static func parse(_ text: String) throws(RuleSyntaxError) -> Rule {
        var s = Scanner(text)
        var metric = try s.metric()
        let comparison = try s.comparison()
        let threshold = try s.threshold(for: metric)
        // `memory > 512MiB` compares bytes; `memory > 90%` a share of process.memory_limit.
        if metric == .memory, s.lastUnitWasSize { metric = .memoryBytes }
        var rule = Rule(metric: metric, comparison: comparison, threshold: threshold, text: text.trimmingCharacters(in: .whitespaces))
        s.skipSpaces()
        let qualifier = s.i
        if s.word("for") {
            rule.sustained = try s.duration(after: "for")
        } else if s.word("in") {
            guard metric.isCounter else {
                throw RuleSyntaxError(column: qualifier + 1, message: "'in D' counts events: it goes with restarts or health_failures, not \(metric)")
            }
            rule.window = try s.duration(after: "in")
        }
        s.skipSpaces()
        guard s.atEnd else { throw s.error("expected the end of the rule, or 'for D' / 'in D'") }
        if threshold.needsBaseline, [Rule.Metric.restarts, .healthFailures, .value, .backupAge, .diskFree].contains(metric) {
            throw RuleSyntaxError(column: 1, message: "\(metric) has no baseline; compare it with a number")
        }
        return rule
    }

    struct Scanner {
        let chars: [Character]
        var i = 0
        var lastUnitWasSize = false
        init(_ text: String) { chars = Array(text) }

        var atEnd: Bool { i >= chars.count }

        func error(_ message: String) -> RuleSyntaxError { RuleSyntaxError(column: i + 1, message: message) }

        mutating func skipSpaces() { while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 } }

        /// The next identifier-like token (letters, digits, `_`, `.`), without consuming it.
        func peekWord() -> String {
            var j = i
            while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" || chars[j] == "." { j += 1 }
            return String(chars[i..<j])
        }

        /// Consumes `w` if it is the next word.
        mutating func word(_ w: String) -> Bool {
            skipSpaces()
            guard peekWord() == w else { return false }
            i += w.count
            return true
        }

        mutating func metric() throws(RuleSyntaxError) -> Rule.Metric {
            skipSpaces()
            let w = peekWord()
            let known = "error_rate, pNN_latency (p50, p90, p95, p99, p99.9 …), rps, memory, cpu, restarts, health_failures, value, backup_age or disk_free"
            let metric: Rule.Metric
            switch w {
            case "error_rate": metric = .errorRate
            case "rps": metric = .rps
            case "memory": metric = .memory
            case "cpu": metric = .cpu
            case "restarts": metric = .restarts
            case "health_failures": metric = .healthFailures
            case "value": metric = .value
            case "backup_age": metric = .backupAge
            case "disk_free": metric = .diskFree
            default:
                guard w.hasPrefix("p"), w.hasSuffix("_latency"), let q = Double(w.dropFirst().dropLast("_latency".count)), q > 0, q < 100 else {
                    throw error(w.isEmpty ? "expected a metric: \(known)" : "unknown metric '\(w)'; expected \(known)")
                }
                metric = .latency(q)
            }
            i += w.count
            return metric
        }

        mutating func comparison() throws(RuleSyntaxError) -> Rule.Comparison {
            skipSpaces()
            for op in [">=", "<=", ">", "<"] where String(chars[i..<min(chars.count, i + op.count)]) == op {
                i += op.count
                return Rule.Comparison(rawValue: op)!
            }
            throw error("expected a comparison: >, >=, < or <=")
        }

        mutating func threshold(for metric: Rule.Metric) throws(RuleSyntaxError) -> Rule.Threshold {
            skipSpaces()
            if word("baseline") {
                skipSpaces()
                guard i < chars.count, "+-*".contains(chars[i]) else { return .baselinePlus(0) }
                let op = chars[i]
                i += 1
                if op == "*" { return .baselineTimes(try plainNumber()) }
                let q = try quantity(for: metric)
                return .baselinePlus(op == "+" ? q : -q)
            }
            let start = i
            if let k = try? plainNumber(), word("*") || peekStar(), word("baseline") {
                return .baselineTimes(k)
            }
            i = start
            return .absolute(try quantity(for: metric))
        }

        mutating func peekStar() -> Bool {
            skipSpaces()
            guard i < chars.count, chars[i] == "*" else { return false }
            i += 1
            return true
        }

        mutating func plainNumber() throws(RuleSyntaxError) -> Double {
            skipSpaces()
            var j = i
            while j < chars.count, chars[j].isNumber || chars[j] == "." { j += 1 }
            guard j > i, let v = Double(String(chars[i..<j])) else { throw error("expected a number") }
            i = j
            return v
        }

        /// A number with the unit the metric is measured in, converted to its base unit.
        mutating func quantity(for metric: Rule.Metric) throws(RuleSyntaxError) -> Double {
            let at = i
            let number = try plainNumber()
            var j = i
            while j < chars.count, chars[j].isLetter || chars[j] == "%" { j += 1 }
            let unit = String(chars[i..<j])
            i = j
            func bad(_ expected: String) -> RuleSyntaxError { RuleSyntaxError(column: at + 1, message: "\(metric): expected \(expected), got '\(String(chars[at..<i]))'") }
            switch metric {
            case .errorRate, .cpu, .diskFree:
                if unit == "%" { return number / 100 }
                guard unit.isEmpty, number <= 1 || metric == .cpu else { throw bad("a share like 1% or 0.01") }
                return number
            case .latency, .backupAge:
                guard !unit.isEmpty, let d = DurationParsing.parse(String(chars[at..<i])) else { throw bad("a duration like 500ms or 2s") }
                return d.seconds
            case .memory:
                if unit == "%" { return number / 100 }
                let factor = ByteSize.units[unit]
                guard let factor else { throw bad("a share of process.memory_limit like 90%, or a size like 512MiB") }
                lastUnitWasSize = true
                return number * factor
            case .memoryBytes, .rps, .restarts, .healthFailures, .value:
                guard unit.isEmpty else { throw bad("a plain number") }
                return number
            }
        }

        mutating func duration(after keyword: String) throws(RuleSyntaxError) -> Duration {
            skipSpaces()
            let at = i
            while i < chars.count, chars[i] != " " { i += 1 }
            let text = String(chars[at..<i])
            guard let d = DurationParsing.parse(text), d > .zero else {
                throw RuleSyntaxError(column: at + 1, message: "'\(keyword)' takes a duration like 10s or 5m, got '\(text)'")
            }
            return d
        }
    }
}

public struct RuleSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based column in the rule's text.
    public var column: Int
    public var message: String
    public var description: String { "column \(column): \(message)" }
}
