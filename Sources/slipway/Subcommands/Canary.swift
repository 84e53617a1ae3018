import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct CanaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canary",
        abstract: "Steer the canary in progress: promote (next step, or --full to 100%), abort (all traffic back to the stable release now), status.",
        subcommands: [Promote.self, Abort.self, Show.self])

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move the canary to its next step now (after the last one: 100%); --full promotes it straight to 100%.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var envOption: EnvOption
        @Flag(help: "Straight to 100%") var full = false
        @Flag(help: "Print the canary's status as JSON") var json = false

        func run() async throws {
            let client = try global.client()
            let status: CanaryStatus = try await client.post("/v1/canary", CanaryRequest(
                environment: envOption.env, action: full ? .promoteFull : .promote, actor: DaemonClient.actor))
            if json { Output.json(status); return }
            if let c = status.canary { print("\(status.environment): \(full ? "promoting \(c.release) to 100%" : "moving \(c.release) past step \(c.step + 1) of \(c.steps)")") }
        }
    }

    struct Abort: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put all traffic back on the stable release now and stop the canary (the deployment ends rolled back).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var envOption: EnvOption
        @Option(help: "Why (in the deployment's history and the audit log)") var reason: String?
        @Flag(help: "Print the canary's status as JSON") var json = false

        func run() async throws {
            let client = try global.client()
            let status: CanaryStatus = try await client.post("/v1/canary", CanaryRequest(
                environment: envOption.env, action: .abort, reason: reason, actor: DaemonClient.actor))
            if json { Output.json(status); return }
            if let c = status.canary { print("\(status.environment): aborting the canary of \(c.release); \(c.stable) takes all traffic") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "The canary's step and weights, both releases' figures, and every decision with its evidence.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var envOption: EnvOption
        @Flag(help: "Print JSON") var json = false

        func run() async throws {
            let client = try global.client()
            let status: CanaryStatus = try await client.get("/v1/canary" + (envOption.env.map { "?env=\($0)" } ?? ""))
            if json { Output.json(status); return }
            print(Self.render(status))
        }

        static func render(_ s: CanaryStatus) -> String {
            var lines: [String] = []
            if let c = s.canary {
                lines.append("\(s.environment): canary \(c.release) at \(c.weight)%, \(c.stable) at \(100 - c.weight)% — step \(c.step + 1) of \(c.steps) (\(c.plan))"
                             + (s.sticky.map { ", sticky by \($0)" } ?? ""))
                if let a = c.last {
                    let ms = CanaryJudge.milliseconds
                    lines.append("  canary \(c.release): \(a.canary.requests) requests, \(CanaryJudge.percent(a.canary.rate)) errors, p99 \(ms(a.canaryP99Ms))")
                    lines.append("  stable \(c.stable): \(a.stable.requests) requests, \(CanaryJudge.percent(a.stable.rate)) errors, p99 \(ms(a.stableP99Ms))"
                                 + (a.window.map { " (latency over the last \($0))" } ?? ""))
                    for v in a.verdicts { lines.append("  \(v.verdict.rawValue.uppercased().padding(toLength: 5, withPad: " ", startingAt: 0)) \(v.rule): \(v.detail)") }
                    lines.append("  now: \(a.decision.rawValue): \(a.detail)")
                }
                if let types = s.processTypes {
                    lines.append("  process types \(types.joined(separator: ", ")) run \(c.stable) until the canary is promoted (the canary runs \(c.release)'s web type only)")
                }
            } else {
                lines.append("\(s.environment): no canary in progress" + (s.deploymentId.map { "; the last one was deployment \($0)" } ?? ""))
            }
            if !s.decisions.isEmpty {
                lines.append("decisions:")
                for e in s.decisions { lines.append("  \(Output.clock(e.time)) \(e.type) \(e.summary)") }
            }
            return lines.joined(separator: "\n")
        }
    }
}
