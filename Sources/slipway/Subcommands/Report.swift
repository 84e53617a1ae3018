import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "DORA for an environment: deployment frequency, lead time, change failure rate, recovery time and rework rate, with tiers.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Option(help: "The period, back from now, like 90d or 2w (default 90d)") var since = "90d"
    @Flag(help: "Print JSON") var json = false

    func validate() throws {
        guard let d = DurationParsing.parse(since), d > .zero else { throw ValidationError("--since: expected a duration like 90d or 12h, got '\(since)'") }
    }

    func run() async throws {
        let r: DORAReport
        if let fleet = try await FleetCommand.report(global, envOption.env, period: DurationParsing.parse(since) ?? .seconds(90 * 86_400)) {
            r = fleet
        } else {
            var q = ["since=\(since)"]
            if let e = envOption.env { q.append("env=\(e)") }
            r = try await global.client().get("/v1/report?" + q.joined(separator: "&"))
        }
        if json { Output.json(r); return }
        print("DORA for \(r.environment), \(Output.time(r.from)) to \(Output.time(r.to))")
        func duration(_ v: Double?) -> String { v.map { Output.age(Int($0.rounded())) } ?? "-" }
        func percent(_ v: Double?) -> String { v.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
        let rows: [[String]] = [
            ["deployment frequency", r.deploymentFrequency.value.map { String(format: "%.2f/day", $0) + (r.deploymentFrequency.bucket.map { " (\($0))" } ?? "") } ?? "-",
             r.deploymentFrequency.tier?.rawValue ?? "-", r.deploymentFrequency.detail],
            ["lead time for changes", duration(r.leadTime.value), r.leadTime.tier?.rawValue ?? "-", r.leadTime.detail],
            ["change failure rate", percent(r.changeFailureRate.value), r.changeFailureRate.tier?.rawValue ?? "-", r.changeFailureRate.detail],
            ["failed deployment recovery time", duration(r.recoveryTime.value), r.recoveryTime.tier?.rawValue ?? "-", r.recoveryTime.detail],
            ["deployment rework rate", percent(r.reworkRate.value), r.reworkRate.tier?.rawValue ?? "-", r.reworkRate.detail],
        ]
        Output.table(["KEY", "VALUE", "TIER", "FROM"], rows)
    }
}
