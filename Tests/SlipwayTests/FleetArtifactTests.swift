import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayRuntime
import Testing

/// A release that arrives changed on one host (its sshd runs every session through a filter that alters the `v2`
/// artifact on its way in, as a faulty link or disk would): that host's digest check refuses it, no host is activated,
/// and nothing is left behind there.
@Suite(.serialized)
struct FleetArtifactTests {
    /// The filter sshd runs instead of the controller's command (`ForceCommand`): it runs that command with the
    /// session's input passed through, except that the body of an upload of release v2 comes out of it with app.py
    /// changed and the gzipped tar rebuilt around it (so only the digest can tell).
    static let filter = FleetLab.requestFilter(matching: #"POST /v1/host/apps/[^/]+/releases/v2[?]"#, body: "corrupt(body)", prelude: """
        import gzip, io, tarfile
        def corrupt(body):
            tin = tarfile.open(fileobj=io.BytesIO(gzip.decompress(body)))
            out = io.BytesIO()
            tout = tarfile.open(fileobj=out, mode="w")
            for m in tin.getmembers():
                data = tin.extractfile(m).read() if m.isfile() else None
                if data is not None and m.name.endswith("app.py"):
                    data += b"\\n# changed on the way\\n"
                    m.size = len(data)
                tout.addfile(m, io.BytesIO(data) if data is not None else None)
            tout.close()
            return gzip.compress(out.getvalue())
        """)

    @Test(.timeLimit(.minutes(3)), .enabled(if: FleetLab.canRun, Comment(rawValue: FleetLab.skipNote)))
    func anArtifactChangedOnTheWayToOneHostActivatesNothingAndLeavesNothingBehind() async throws {
        try await FleetLab.with(2) { lab in
            let script = lab.dir + "/alter-v2.py"
            try Self.filter.write(toFile: script, atomically: true, encoding: .utf8)
            try await lab.forceCommand("python3 \(script)", onHost: 1)
            try lab.writeApp(port: 18_080)
            let first = try await lab.deploy("v1")
            #expect(first.status == 0, "v1 arrives intact everywhere: \(first.text)")

            let second = try await lab.deploy("v2")
            #expect(second.status == 1 && second.outcome?.phase == "stage", "\(second.text)")
            #expect(second.outcome?.message == "staging failed on 1 host(s); nothing was activated", "\(second.text)")
            #expect(second.outcome?.hosts.map(\.state) == ["staged", "failed"], "\(second.text)")
            #expect(second.outcome?.hosts[1].message.contains("does not match its digest") == true, "\(second.text)")
            #expect(!second.text.contains("activating"), "no host was activated")
            for h in lab.hosts {
                let r = try await MiniHTTPClient().request("GET", .tcp(host: h.address, port: 18_080), path: "/")
                #expect(r.bodyText.contains("demo-app v1"), "\(h.name) still serves v1: \(r.bodyText)")
            }
            let releases = try FileManager.default.contentsOfDirectory(atPath: lab.dir + "/h2/root/apps/shop/state/releases")
            #expect(releases.sorted() == ["v1"], "h2 keeps no part of v2 and no temporary directory: \(releases)")
        }
    }
}
