import Foundation
import Testing

/// The two commands other programs start many times are parsed without the rest of the command tree (`Entry.parse`):
/// `slipway launch` (the daemon's launcher, for every instance) and `slipway server dial-stdio` (every fleet session
/// over ssh). They must work as before, and their help and mistakes must read as every other command's.
@Suite struct EntryTests {
    static func run(_ args: [String]) async throws -> (status: Int32, text: String) { try await TestBinaries.cli(args) }

    @Test(.timeLimit(.minutes(1)))
    func theLauncherAndDialStdioWorkAndExplainThemselvesAsBefore() async throws {
        let launched = try await Self.run(["launch", "--umask", "077", "--program", "/bin/sh", "--", "/bin/sh", "-c", "umask; echo launched"])
        #expect(launched.status == 0 && launched.text == "0077\nlaunched\n", "\(launched.text)")
        let missing = try await Self.run(["launch", "--", "/bin/true"])
        #expect(missing.status == 2 && missing.text.contains("--program") && missing.text.contains("slipway launch"), "\(missing.text)")

        let help = try await Self.run(["server", "dial-stdio", "--help"])
        #expect(help.status == 0 && help.text.contains("USAGE: slipway server dial-stdio"), "\(help.text)")
        let nowhere = "/tmp/slipway-entry-\(UUID().uuidString.prefix(8))"
        let unreachable = try await Self.run(["server", "dial-stdio", "--root", nowhere])
        #expect(unreachable.status == 1 && unreachable.text.contains("cannot reach the slipway daemon at \(nowhere)/slipway.sock"), "\(unreachable.text)")
        let wrong = try await Self.run(["server", "dial-stdio", "--bogus"])
        #expect(wrong.status == 2 && wrong.text.contains("--bogus") && wrong.text.contains("slipway server dial-stdio"), "\(wrong.text)")

        let version = try await Self.run(["--version"])
        #expect(version.status == 0 && version.text.hasPrefix("slipway "), "\(version.text)")
    }
}
