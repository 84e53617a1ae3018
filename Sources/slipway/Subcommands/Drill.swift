import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct Drill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore the newest backup (or the continuous archive: --latest, --to-time) into scratch, start the release on it, health-check it, and report RTO per phase and RPO (exit 1 if it fails or misses a target).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Flag(help: "List past drills instead of running one") var history = false
    @Flag(help: "Drill the continuous archive (backup.continuous) to everything archived; RPO is the archive's measured lag") var latest = false
    @Option(help: "Drill the continuous archive to this time (e.g. 2026-12-06T10:15:02Z)") var toTime: String?
    @Flag(help: "Print JSON") var json = false

    func validate() throws {
        if latest, toTime != nil { throw ValidationError("give --latest or --to-time, not both") }
        if history, latest || toTime != nil { throw ValidationError("--history lists past drills; --latest and --to-time run one") }
    }

    func run() async throws {
        let client = try global.client()
        if history {
            let list: [DrillReport] = try await client.get(envOption.env.map { "/v1/drills?env=\($0)" } ?? "/v1/drills")
            if json { Output.json(list); return }
            Output.table(["ID", "STARTED", "ENV", "BACKUP", "RELEASE", "RTO", "RPO", "RESULT"], list.map { d in
                [d.id.map(String.init) ?? "-", Output.time(d.startedAt), d.environment, d.backupId, d.release ?? "-",
                 Self.seconds(d.rtoMs), Output.age(d.rpoSeconds), d.ok ? "ok" : "FAILED"]
            })
            return
        }
        let report: DrillReport = try await client.post("/v1/drills", DrillRequest(environment: envOption.env, point: latest ? "latest" : toTime,
                                                                                        actor: DaemonClient.actor))
        if json { Output.json(report) } else { print(Self.describe(report)) }
        if !report.ok { throw SlipwayError.failed("the drill of \(report.environment) failed" + (report.message.map { ": \($0)" } ?? "")) }
    }

    static func seconds(_ ms: Int) -> String { String(format: "%.2fs", Double(ms) / 1000) }

    static func describe(_ r: DrillReport) -> String {
        let from = r.backupId.hasPrefix("continuous ") ? "the \(r.backupId) (restored to \(Output.time(r.backupCreatedAt)))"
            : "backup \(r.backupId) (taken \(Output.time(r.backupCreatedAt)))"
        var lines = ["drill of \(r.environment) from \(from)"
                     + (r.release.map { ", release \($0)" } ?? ", no release to start")]
        for p in r.phases {
            lines.append("  " + p.name.padding(toLength: 11, withPad: " ", startingAt: 0) + seconds(p.ms).leftPad(8) + "  " + p.detail)
        }
        for c in r.checks where !c.ok { lines.append("  FAILED \(c.source): \(c.detail)") }
        let rtoTarget = r.rtoTargetMs.map { " (target \(seconds($0)): \(r.rtoMet == true ? "met" : "MISSED"))" } ?? ""
        let rpoTarget = r.rpoTargetSeconds.map { " (target \(Output.age($0)): \(r.rpoMet == true ? "met" : "MISSED"))" } ?? ""
        lines.append("  RTO \(seconds(r.rtoMs))\(rtoTarget)   RPO \(Output.age(r.rpoSeconds))\(rpoTarget)")
        if let m = r.message { lines.append("  \(m)") }
        lines.append(r.ok ? "✓ drill passed (log \(r.logFile))" : "✗ drill failed (log \(r.logFile))")
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
