import Foundation
import Testing

/// `slipway init` in a Go project's directory: a slipway.yml that `slipway check` accepts; run again, it refuses
/// to replace it (exit 2) unless told to.
@Suite struct InitCommandTests {
    static func run(_ args: [String], in dir: String) async throws -> (status: Int32, text: String) { try await TestBinaries.cli(args, in: dir) }

    @Test(.timeLimit(.minutes(1)))
    func initWritesAConfigCheckAcceptsAndNeverReplacesOneUnasked() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-init-\(UUID().uuidString.prefix(8))/Shop API").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        _ = FileManager.default.createFile(atPath: dir + "/go.mod", contents: Data("module shop\n".utf8))
        let first = try await Self.run(["init"], in: dir)
        #expect(first.status == 0 && first.text.contains("for shop-api (a go project)"), "\(first.text)")
        let yaml = try String(contentsOfFile: dir + "/slipway.yml", encoding: .utf8)
        #expect(yaml.contains("build: \"go build -o shop-api .\"") && yaml.contains("command: \"./shop-api --port $PORT\""), "\(yaml)")
        let check = try await Self.run(["check"], in: dir)
        #expect(check.status == 0 && check.text.contains("ok — app shop-api"), "\(check.text)")
        try "app: kept\nprocess: { command: x }\n".write(toFile: dir + "/slipway.yml", atomically: true, encoding: .utf8)
        let again = try await Self.run(["init"], in: dir)
        #expect(again.status == 2 && again.text.contains("slipway.yml exists; it is left as it is (--force replaces it)"), "\(again.text)")
        #expect(try String(contentsOfFile: dir + "/slipway.yml", encoding: .utf8).hasPrefix("app: kept"))
        let forced = try await Self.run(["init", "--force", "--app", "shop"], in: dir)
        let replaced = try String(contentsOfFile: dir + "/slipway.yml", encoding: .utf8)
        #expect(forced.status == 0 && replaced.contains("app: shop\n"), "\(forced.text)")
    }
}
