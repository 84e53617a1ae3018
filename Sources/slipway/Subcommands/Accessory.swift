import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

/// `slipway accessory list|start|stop|restart|logs`: the environment's long-lived services (`accessories:`).
struct AccessoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accessory",
        abstract: "Accessories (accessories: in slipway.yml: Redis, NATS, …): list, start, stop, restart (what applies a changed config), logs. A deploy never touches them.",
        subcommands: [List.self, Start.self, Stop.self, Restart.self, Logs.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every accessory: environment, state, pid, ready, restarts, started, drift.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "Only this environment") var env: String?
        @Flag(help: "Print JSON") var json = false

        func run() async throws {
            let list: [AccessoryInfo] = try await global.client().get("/v1/accessories" + (env.map { "?env=\($0)" } ?? ""))
            if json { Output.json(list); return }
            if list.isEmpty {
                print("no accessories (accessories: in slipway.yml declares them)")
                return
            }
            Output.table(["ENVIRONMENT", "NAME", "STATE", "PID", "READY", "RESTARTS", "STARTED", "NOTE"], list.map { a in
                let note = !a.configured ? "not in slipway.yml: accessory stop ends it" : (a.drift ? "config changed: accessory restart \(a.name) applies it" : "-")
                return [a.environment, a.name, a.state.rawValue, a.pid.map(String.init) ?? "-", a.ready ? "yes" : "no", String(a.restarts),
                        a.startedAt.map { Output.time($0) } ?? "-", note]
            })
        }
    }

    /// start, stop and restart: one accessory, then its line.
    static func act(_ action: String, _ name: String, env: String?, global: GlobalOptions, json: Bool) async throws {
        let a: AccessoryInfo = try await global.client().post("/v1/accessories/\(name)/\(action)",
                                                              EnvironmentRequest(environment: env, actor: DaemonClient.actor))
        if json { Output.json(a); return }
        print("\(a.environment)/\(a.name): \(a.state.rawValue)\(a.pid.map { " (pid \($0))" } ?? "")")
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a stopped accessory (a running one is left as it is). Audited.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var envOption: EnvOption
        @Argument(help: "The accessory's name") var name: String
        @Flag(help: "Print JSON") var json = false
        func run() async throws { try await AccessoryCommand.act("start", name, env: envOption.env, global: global, json: json) }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop an accessory (SIGTERM, SIGKILL after stop_timeout); it stays down until start or restart. Audited.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var envOption: EnvOption
        @Argument(help: "The accessory's name") var name: String
        @Flag(help: "Print JSON") var json = false
        func run() async throws { try await AccessoryCommand.act("stop", name, env: envOption.env, global: global, json: json) }
    }

    struct Restart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop and start an accessory with slipway.yml as it is now (the only way a changed accessory config is applied). Audited.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var envOption: EnvOption
        @Argument(help: "The accessory's name") var name: String
        @Flag(help: "Print JSON") var json = false
        func run() async throws { try await AccessoryCommand.act("restart", name, env: envOption.env, global: global, json: json) }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The last lines of an accessory's output.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var envOption: EnvOption
        @Argument(help: "The accessory's name") var name: String
        @Option(help: "How many lines (default 100)") var lines = 100

        func run() async throws {
            var path = "/v1/accessories/\(name)/logs?lines=\(lines)"
            if let env = envOption.env { path += "&env=\(env)" }
            print(try await global.client().text(path), terminator: "")
        }
    }
}
