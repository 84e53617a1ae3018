import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Testing

/// An image release on a fleet (`runtime: podman`): the controller pins the image and saves it once; each host (its
/// own container storage here, as a separate machine has) is sent the image only when its runtime lacks the id, loads
/// it, checks the id it loaded, and runs the release as containers behind its router. A different image arriving on
/// one host is refused there before anything is activated.
@Suite(.serialized)
struct FleetImageTests {
    static var canRun: Bool { FleetLab.canRun && ImageReleaseTests.canRun }

    /// sshd's filter on h2: a session's input passed through, except that an upload of a `…:v2` image is replaced by
    /// the archive at `SUBSTITUTE` (another image), as a mixed-up or tampered artifact would arrive.
    static let filter = FleetLab.requestFilter(matching: #"POST /v1/host/apps/[^/]+/images[?][^ ]*%3Av2"#, body: #"open("SUBSTITUTE", "rb").read()"#)

    @Test(.timeLimit(.minutes(4)), .enabled(if: canRun, Comment(rawValue: FleetLab.skipNote + "; " + ImageReleaseTests.skipNote)))
    func anImageReleaseGoesToEachHostThatLacksItIsCheckedThereAndRunsAsContainers() async throws {
        try await FleetLab.with(2) { lab in
            let tag = "localhost/slipway-fleet-\(UUID().uuidString.prefix(6).lowercased())"
            _ = try await ImageReleaseTests.image(tag + ":v1", page: "hello from fleet v1 (image)", in: lab.dir)
            _ = try await ImageReleaseTests.image(tag + ":v2", page: "hello from fleet v2 (image)", in: lab.dir)
            var failure: (any Error)?
            do {
                let substitute = lab.dir + "/v1.tar.gz"
                try await ImageReleaseTests.podman(["save", "--output", lab.dir + "/v1.tar", tag + ":v1"], in: lab.dir)
                #expect(try await ProcessSpawner.run(argv: ["gzip", lab.dir + "/v1.tar"], directory: lab.dir, environment: ProcessInfo.processInfo.environment,
                                                     logFile: lab.dir + "/gzip.log") == 0)
                try Self.filter.replacingOccurrences(of: "SUBSTITUTE", with: substitute).write(toFile: lab.dir + "/swap-v2.py", atomically: true, encoding: .utf8)
                try await lab.forceCommand("python3 \(lab.dir)/swap-v2.py", onHost: 1)
                try lab.writeApp(port: 18_090)
                let yml = try String(contentsOfFile: lab.app + "/slipway.yml", encoding: .utf8)
                    .replacingOccurrences(of: #"process: { command: "python3 app.py", instances: 1, stop_timeout: 2s }"#,
                                          with: "runtime: podman\n    process: { instances: 1, stop_timeout: 3s }")
                    .replacingOccurrences(of: "health: { path: /health,", with: "health: { path: /health/ready,")
                try yml.write(toFile: lab.app + "/slipway.yml", atomically: true, encoding: .utf8)

                let first = try await lab.cli(["deploy", "v1", "--image", tag + ":v1"])
                #expect(first.status == 0, "\(first.text)")
                for h in lab.hosts {
                    let r = try await MiniHTTPClient().request("GET", .tcp(host: h.address, port: 18_090), path: "/")
                    #expect(r.bodyText.contains("hello from fleet v1 (image)"), "\(h.name): \(r.bodyText)")
                }
                // Each host's own runtime holds the pinned id: the image went there over ssh.
                let pinned = try #require(ReleaseImage.read(releaseDirectory: lab.app + "/.slipway/releases/v1"))
                for i in 1...2 { #expect(try await Self.id(tag + ":v1", host: i, lab) == pinned.id, "h\(i)") }
                #expect(try Self.loads(host: 1, lab) == 1 && Self.loads(host: 2, lab) == 1)

                let second = try await lab.cli(["deploy", "v2", "--image", tag + ":v2"])
                #expect(second.status == 1 && second.text.contains("staging failed on 1 host(s); nothing was activated"), "\(second.text)")
                #expect(second.text.contains("h2: the image archive does not match its digest"), "\(second.text)")
                #expect(!second.text.contains("activating"), "no host was activated: \(second.text)")
                for h in lab.hosts {
                    let r = try await MiniHTTPClient().request("GET", .tcp(host: h.address, port: 18_090), path: "/")
                    #expect(r.bodyText.contains("hello from fleet v1 (image)"), "\(h.name) still serves v1: \(r.bodyText)")
                }
                let releases = try FileManager.default.contentsOfDirectory(atPath: lab.dir + "/h2/root/apps/shop/state/releases")
                #expect(releases.sorted() == ["v1"], "h2 staged no part of v2: \(releases)")
                let left = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("slipway-image-") }
                #expect(left.isEmpty, "the uploads were removed: \(left)")

                // Again to v1 (a host that has an image is not sent it again): no new load anywhere, both on v1.
                let loads = (try Self.loads(host: 1, lab), try Self.loads(host: 2, lab))
                let third = try await lab.cli(["deploy", "v1"])
                #expect(third.status == 0, "\(third.text)")
                #expect(try Self.loads(host: 1, lab) == loads.0 && Self.loads(host: 2, lab) == loads.1, "\(loads)")
            } catch { failure = error }
            _ = try? await ImageReleaseTests.podman(["rmi", "--force", tag + ":v1", tag + ":v2"], in: "/")
            if let failure { throw failure }
        }
    }

    /// The id `reference` has in host `i`'s own container storage.
    static func id(_ reference: String, host i: Int, _ lab: FleetLab) async throws -> String {
        let out = lab.dir + "/inspect-\(i).out"
        let status = try await ProcessSpawner.run(argv: ["podman", "image", "inspect", "--format", "{{.Id}}", reference], directory: lab.dir,
                                                  environment: ProcessInfo.processInfo.environment.merging(["CONTAINERS_STORAGE_CONF": "\(lab.dir)/h\(i)/storage.conf"]) { $1 },
                                                  logFile: out)
        let text = try String(contentsOfFile: out, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return status == 0 ? "sha256:" + text : "none (\(text))"
    }

    /// How many times host `i`'s runtime was asked to load an image for the app.
    static func loads(host i: Int, _ lab: FleetLab) throws -> Int {
        let log = (try? String(contentsOfFile: "\(lab.dir)/h\(i)/root/apps/shop/state/logs/images.log", encoding: .utf8)) ?? ""
        return log.components(separatedBy: "$ podman load").count - 1
    }
}
