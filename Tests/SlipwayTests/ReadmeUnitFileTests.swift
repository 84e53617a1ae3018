import Foundation
import SlipwayRuntime
import Testing

/// The systemd units the README gives (the daemon's, the edge's, a fleet host's) pass `systemd-analyze verify` as printed: the
/// paths point at this build, nothing else is changed (systemd takes no comment after a value, for one).
@Suite struct ReadmeUnitFileTests {
    static let analyze = "/usr/bin/systemd-analyze"
    static var canRun: Bool { FileManager.default.isExecutableFile(atPath: analyze) || TestServices.required }

    @Test(.timeLimit(.minutes(1)), .enabled(if: canRun, Comment(rawValue: "needs systemd-analyze (Debian's systemd; scripts/test.sh installs it)")))
    func theREADMEsUnitFilesVerify() async throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md").path
        let text = try String(contentsOfFile: readme, encoding: .utf8)
        let blocks = text.components(separatedBy: "```ini\n").dropFirst().compactMap { $0.components(separatedBy: "```").first }
            .filter { $0.hasPrefix("# /etc/systemd/system/") }
        #expect(blocks.count == 3, "the daemon's, the edge's and a fleet host's units")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-units-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for block in blocks {
            let name = String(block.split(separator: "\n")[0].dropFirst("# /etc/systemd/system/".count))
            let unit = block.replacingOccurrences(of: "/usr/local/bin/slipway", with: TestBinaries.slipway).replacingOccurrences(of: "/srv/shop", with: dir)
            try unit.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
            let out = dir + "/\(name).out"
            let status = try await ProcessSpawner.run(argv: [Self.analyze, "verify", "--man=no", dir + "/" + name], directory: dir,
                                                      environment: ProcessInfo.processInfo.environment, logFile: out)
            let said = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            #expect(status == 0 && said.isEmpty, "\(name): exit \(status)\n\(said)")
        }
    }
}
