import Foundation
import SlipwayCore
import SlipwayRuntime
import Testing

/// A fleet host makes a release from the controller's upload only when its content matches the digest sent with it.
struct ReleaseAdoptTests {
    func archive(_ files: [String: String], in dir: String) async throws -> String {
        let src = dir + "/src"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: src + "/" + name, atomically: true, encoding: .utf8) }
        let out = dir + "/artifact.tar.gz"
        let status = try await ProcessSpawner.run(argv: ["tar", "-C", src, "-czf", out, "."], directory: dir, environment: ["PATH": "/usr/bin:/bin"], logFile: dir + "/tar.log")
        #expect(status == 0)
        return out
    }

    @Test func aMatchingArtifactIsStagedOnceAndACorruptedOneLeavesNothing() async throws {
        let dir = NSTemporaryDirectory() + "slipway-adopt-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = ["app.py": "print('v1')\n", "VERSION": "v1\n"]
        let good = try await archive(files, in: dir)
        let (digest, _, _) = try ReleaseStore.digest(of: dir + "/src")
        let store = ReleaseStore(directory: dir + "/releases")

        let (info, staged) = try await store.adopt(version: "v1", archive: good, digest: digest, creator: "fleet")
        #expect(staged && info.digest == digest && store.info("v1")?.digest == digest)
        let again = try await store.adopt(version: "v1", archive: good, digest: digest, creator: "fleet")
        #expect(!again.staged, "a repeated stage keeps the release")

        try "print('tampered')\n".write(toFile: dir + "/src/app.py", atomically: true, encoding: .utf8)
        let bad = try await archive([:], in: dir)
        await #expect(throws: SlipwayError.self) { _ = try await store.adopt(version: "v2", archive: bad, digest: digest, creator: "fleet") }
        #expect(store.info("v2") == nil)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir + "/releases")
        #expect(left == ["v1"], "no temporary directory left behind: \(left)")
        await #expect(throws: SlipwayError.self) { _ = try await store.adopt(version: "v1", archive: bad, digest: "sha256:other", creator: "fleet") }
    }
}
