import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayRuntime

/// `slipway launch`: how the daemon starts the app's programs. It applies what posix_spawn cannot (user, groups,
/// limits, no new privileges, umask) to itself, then execs the program in place. Not for people.
struct LaunchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "launch", abstract: "Start a program confined (the daemon's launcher).", shouldDisplay: false)

    @Option var uid: UInt32?
    @Option var gid: UInt32?
    @Option(transform: { s in try s.split(separator: ",").map { guard let g = UInt32($0) else { throw ValidationError("--groups: expected gids") }; return g } })
    var groups: [UInt32] = []
    @Flag var noNewPrivileges = false
    @Option var nofile: Int?
    @Option var nproc: Int?
    @Option(transform: { s in guard let m = UInt32(s, radix: 8) else { throw ValidationError("--umask: expected an octal mask like 027") }; return m })
    var umask: UInt32 = 0o027
    @Option var program: String
    @Argument(parsing: .postTerminator) var argv: [String] = []

    func run() throws {
        guard !argv.isEmpty else { throw ValidationError("no program to start after --") }
        var c = Confinement()
        c.uid = uid
        c.gid = gid
        c.groups = groups
        c.noNewPrivileges = noNewPrivileges
        c.nofile = nofile
        c.nproc = nproc
        c.umask = umask
        let error = c.exec(program: program, argv: argv)
        // Into the instance's log: why it never started.
        FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        Foundation.exit(126)
    }
}
