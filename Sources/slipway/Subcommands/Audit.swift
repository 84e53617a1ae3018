import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit log (who did what, with the outcome), newest first; 'audit verify' walks its hash chain.",
        subcommands: [List.self, Verify.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Audit entries, newest first.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var envOption: EnvOption
        @Option(help: "From this time on: ISO 8601 (2026-11-26T10:00:00Z) or an age (10m, 2h)") var since: String?
        @Option(help: "How many") var limit = 100
        @Flag(help: "Print JSON") var json = false

        func validate() throws {
            if let since, Self.time(since) == nil {
                throw ValidationError("--since: expected an ISO 8601 time (like 2026-11-26T10:00:00Z) or an age (like 10m), got '\(since)'")
            }
        }

        static func time(_ text: String, now: Date = Date()) -> Date? {
            SlipwayJSON.parseDate(text) ?? DurationParsing.parse(text).map { now.addingTimeInterval(-$0.seconds) }
        }

        func run() async throws {
            let entries: [AuditEntry]
            if let shared = try await FleetCommand.audit(global, envOption.env, since: since.flatMap { Self.time($0) }, limit: limit) {
                entries = shared
            } else {
                let client = try global.client()
                var q = ["limit=\(limit)"]
                if let e = envOption.env { q.append("env=\(e)") }
                if let since, let t = Self.time(since) { q.append("since=\(t.formatted(Date.ISO8601FormatStyle()))") }
                entries = try await client.get("/v1/audit?" + q.joined(separator: "&"))
            }
            if json { Output.json(entries); return }
            Output.table(["ID", "TIME", "ACTOR", "ROLE", "FROM", "ACTION", "TARGET", "OUTCOME", "CHANGE", "DETAIL"], entries.map { e in
                let change = e.before == nil && e.after == nil ? "-" : "\(e.before ?? "-") → \(e.after ?? "-")"
                return ["\(e.id)", Output.time(e.time), e.onBehalfOf.map { "\(e.actor) (for \($0))" } ?? e.actor, e.role ?? "-", e.source ?? "-",
                        e.action, e.target, e.outcome, change, e.detail]
            })
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute the audit log's hash chain; exit 1 naming the first entry that does not match.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var envOption: EnvOption
        @Flag(help: "Print JSON") var json = false

        func run() async throws {
            let v: AuditVerification
            if let shared = try await FleetCommand.verifyAudit(global, envOption.env) { v = shared } else {
                v = try await global.client().get("/v1/audit/verify")
            }
            if json { Output.json(v) } else if v.ok { print("audit log intact: \(v.entries) entries, each hash chained to the one before") }
            if let bad = v.firstBad {
                throw SlipwayError(.failed, "audit entry \(bad) does not match its hash or the entry before it: the log was changed at or before entry \(bad)")
            }
        }
    }
}

struct Gates: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Every policy gate for deploying VERSION now: pass or block, why, and when it would pass. Exit 3 if one blocks.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Argument(help: "The release version") var version: String
    @Flag(help: "For a rollback to VERSION instead of a deploy") var rollback = false
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let client = try global.client()
        var q = ["version=\(version)", "operation=\(rollback ? "rollback" : "deploy")"]
        if let e = envOption.env { q.append("env=\(e)") }
        let report: GateReport = try await client.get("/v1/gates?" + q.joined(separator: "&"))
        if json { Output.json(report) } else {
            print("\(report.operation) \(report.version) to \(report.environment): \(report.pass ? "every gate passes" : "blocked")")
            for g in report.gates {
                print("  \(g.pass ? "pass " : "BLOCK") \(g.rule)" + (g.reason.map { ": \($0)" } ?? ""))
            }
        }
        if !report.pass { throw SlipwayError(.policy, "\(report.operation) of \(report.version) to \(report.environment) is blocked by policy") }
    }
}
