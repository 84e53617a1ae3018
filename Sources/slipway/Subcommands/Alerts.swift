import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Alerts per environment (configured and built-in): firing and pending first, with severity, since when, and what they saw.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Flag(help: "Also list alerts that are inactive or resolved") var all = false
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let client = try global.client()
        let list: [AlertInfo] = try await client.get("/v1/alerts" + (envOption.env.map { "?env=\($0)" } ?? ""))
        if json { Output.json(list); return }
        let shown = all ? list : list.filter { $0.state == .firing || $0.state == .pending }
        guard !shown.isEmpty else {
            print("no alert is firing or pending (\(list.count) alert(s) watched; --all lists them)")
            return
        }
        Output.table(["ENV", "ALERT", "SEV", "STATE", "SINCE", "SILENCED", "SUMMARY"], shown.map { a in
            [a.environment, a.name, a.severity.rawValue, a.state.rawValue.uppercased(), Output.time(a.since),
             a.silencedUntil.map { "until \(Output.time($0))" } ?? "-", a.summary + (a.runbook.map { " · runbook \($0)" } ?? "")]
        })
    }
}

struct Silence: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hold back an alert's notifications for a while (audited; it expires by itself).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var envOption: EnvOption
    @Argument(help: "The alert's name (slipway alerts --all lists them)") var alert: String
    @Option(name: .customLong("for"), help: "How long, like 1h or 30m (at most 30d)") var duration: String
    @Option(help: "Why (recorded in the audit log)") var reason: String
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let client = try global.client()
        let info: AlertInfo = try await client.post("/v1/silences", SilenceRequest(environment: envOption.env, alert: alert, duration: duration,
                                                                                   reason: reason, actor: DaemonClient.actor))
        if json { Output.json(info); return }
        print("\(info.environment)/\(info.name) silenced until \(Output.time(info.silencedUntil)) (\(info.state.rawValue) now)")
    }
}

struct NotificationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifications",
        abstract: "The notification outbox, newest first: what was sent where, what is waiting for a retry, what was given up.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "How many") var limit = 50
    @Flag(help: "Print JSON") var json = false

    func run() async throws {
        let client = try global.client()
        let list: [NotificationInfo] = try await client.get("/v1/notifications?limit=\(limit)")
        if json { Output.json(list); return }
        Output.table(["KEY", "STATE", "TRIES", "SEV", "EVENT", "TEXT"], list.map { n in
            [n.key, n.state == .pending && n.attempts > 0 ? "retry at \(Output.time(n.nextAttemptAt))" : n.state.rawValue, "\(n.attempts)",
             n.severity.rawValue, n.eventType, n.text + (n.lastError.map { " (last error: \($0))" } ?? "")]
        })
    }
}
