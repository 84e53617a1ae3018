import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct IncidentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: "Incidents: opened by a firing P0/P1 alert, an automatic rollback or a failed deploy; their timeline and review.",
        subcommands: [List.self, Show.self, Note.self, Ack.self, Mitigate.self, Resolve.self, Close.self, Review.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Incidents, newest first.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var envOption: EnvOption
        @Flag(help: "Only open ones (investigating or mitigated)") var open = false
        @Flag(help: "Print JSON") var json = false

        func run() async throws {
            let client = try global.client()
            var q: [String] = []
            if let e = envOption.env { q.append("env=\(e)") }
            if open { q.append("open=true") }
            let list: [IncidentInfo] = try await client.get("/v1/incidents" + (q.isEmpty ? "" : "?" + q.joined(separator: "&")))
            if json { Output.json(list); return }
            guard !list.isEmpty else { print("no incidents"); return }
            Output.table(["ID", "ENV", "SEV", "STATUS", "OPENED", "RELEASE", "TITLE"], list.map { i in
                ["\(i.id)", i.environment, i.severity.rawValue, i.status.rawValue, Output.time(i.openedAt),
                 (i.release ?? "-") + (i.deploymentId.map { " (#\($0))" } ?? ""), i.title]
            })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "An incident with its timeline.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The incident's id") var id: Int64
        @Flag(help: "Print JSON") var json = false

        func run() async throws {
            let d: IncidentDetail = try await global.client().get("/v1/incidents/\(id)")
            if json { Output.json(d); return }
            let i = d.incident
            print("incident \(i.id) [\(i.severity.rawValue)] \(i.status.rawValue): \(i.title)")
            print("  environment \(i.environment), release \(i.release ?? "-")" + (i.deploymentId.map { " (deployment \($0))" } ?? ""))
            print("  opened \(Output.time(i.openedAt)) by \(i.trigger)")
            for e in d.timeline { print("  \(Output.time(e.time))  \(e.kind.padding(toLength: 9, withPad: " ", startingAt: 0)) \(e.text)" + (e.actor.map { " — \($0)" } ?? "")) }
        }
    }

    struct Note: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "note", abstract: "Add a note to an incident's timeline.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The incident's id") var id: Int64
        @Argument(help: "The note") var text: String

        func run() async throws {
            let i: IncidentInfo = try await global.client().post("/v1/incidents/\(id)", IncidentActionRequest(action: "note", text: text, actor: DaemonClient.actor))
            print("noted on incident \(i.id)")
        }
    }

    /// `ack`, `mitigate`, `resolve`, `close`: one shape, four commands.
    struct Change: ParsableArguments {
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The incident's id") var id: Int64
        @Option(help: "A note recorded with the change") var note: String?

        func send(_ action: String) async throws {
            let i: IncidentInfo = try await global.client().post("/v1/incidents/\(id)", IncidentActionRequest(action: action, text: note, actor: DaemonClient.actor))
            print("incident \(i.id) is \(i.status.rawValue)" + (action == "ack" ? ", acknowledged by \(i.acknowledgedBy ?? "?")" : ""))
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ack", abstract: "Acknowledge an incident (you are on it).")
        @OptionGroup var change: Change
        func run() async throws { try await change.send("ack") }
    }

    struct Mitigate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mitigate", abstract: "Mark an incident mitigated (the impact stopped).")
        @OptionGroup var change: Change
        func run() async throws { try await change.send("mitigate") }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resolve", abstract: "Mark an incident resolved (the cause is fixed).")
        @OptionGroup var change: Change
        func run() async throws { try await change.send("resolve") }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "close", abstract: "Close a resolved incident (its review is done).")
        @OptionGroup var change: Change
        func run() async throws { try await change.send("close") }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "review", abstract: "The post-incident review in Markdown, prefilled from the timeline.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The incident's id") var id: Int64
        @Option(help: "Write it to this file instead of printing it") var output: String?

        func run() async throws {
            let text = try await global.client().text("/v1/incidents/\(id)/review")
            if let output {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
                print("wrote \(output)")
            } else {
                print(text, terminator: "")
            }
        }
    }
}
