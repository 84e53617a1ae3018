import ArgumentParser
import Foundation
import SlipwayCore

/// Runs the command tree and maps failures onto Slipway's exit codes:
/// 0 ok, 1 operation failed, 2 usage or config error, 3 refused by policy.
@main
enum Entry {
    static func main() async {
        do {
            var command = try parse(Array(CommandLine.arguments.dropFirst()))
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch let error as SlipwayError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            exit(error.exitCode)
        } catch {
            let code = Slipway.exitCode(for: error)
            if code == .success || error is CleanExit {
                Slipway.exit(withError: error)
            }
            if code.rawValue == 64 {  // ArgumentParser's EX_USAGE
                FileHandle.standardError.write(Data((Slipway.fullMessage(for: error) + "\n").utf8))
                exit(2)
            }
            Slipway.exit(withError: error)
        }
    }

    /// The command `arguments` name. The two that programs start many times — the daemon's launcher (`launch`, once
    /// for every instance it starts) and `server dial-stdio` (once for every fleet session over ssh) — are parsed on
    /// their own: building the whole command tree first is about a third of this binary's start-up CPU. Anything
    /// they do not accept as it is (`--help`, a mistake) goes through the whole tree, so help and errors read as always.
    static func parse(_ arguments: [String]) throws -> any ParsableCommand {
        if arguments.first == "launch", let launch = try? LaunchCommand.parse(Array(arguments.dropFirst())) { return launch }
        if arguments.starts(with: ["server", "dial-stdio"]), let dial = try? DialStdioCommand.parse(Array(arguments.dropFirst(2))) { return dial }
        return try Slipway.parseAsRoot(arguments)
    }
}

struct Slipway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slipway",
        abstract: "Ship, roll back and protect your services.",
        version: "slipway \(SlipwayVersion.current)",
        subcommands: [
            Server.self, Init.self, Import.self, Check.self, Release.self, Releases.self, Deploy.self, Rollback.self, Status.self, Fleet.self,
            History.self, Events.self, Logs.self, Scale.self, Lock.self, Down.self, Backup.self, Drill.self, Maintenance.self, Migrate.self, CanaryCommand.self, Gates.self, AuditCommand.self, TokenCommand.self, Promote.self, Approve.self, Reject.self, AlertsCommand.self, Silence.self, NotificationsCommand.self, IncidentCommand.self, Report.self, DashboardCommand.self, RouterCommand.self, EdgeCommand.self, RestartRouter.self, Certs.self, AccessoryCommand.self, Demo.self, DemoAppCommand.self, LaunchCommand.self,
        ])
}
