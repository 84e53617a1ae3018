import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `process.user` and `limits`: the daemon, as root, starts the app as an unprivileged user (here `nobody`), with no
/// new privileges, its limits and umask 027; the app reads its release but cannot write it, and writes its shared
/// directory. A user the host does not have fails the deploy naming the key.
@Suite(.serialized)
struct PrivilegesTests {
    static let asRoot = getuid() == 0
    static let skipNote = Comment(rawValue: "needs root: the daemon drops to another user only as root")

    /// A /proc/PID/status line's value (`Uid`, `NoNewPrivs`, `Umask`, …).
    static func status(_ pid: Int32, _ key: String) -> String? {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").first { $0.hasPrefix(key + ":") }.map { $0.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces) }
    }

    @Test(.timeLimit(.minutes(2)), .enabled(if: asRoot, skipNote))
    func theAppRunsAsItsUserWithNoNewPrivilegesAndItsLimitsAndWritesOnlyItsSharedDirectory() async throws {
        let nobody = try #require(getpwnam("nobody")).pointee.pw_uid
        let other = try PortAllocator.freePort()
        let s = try Sandbox(extra: """
            environments:
              production:
                process: { command: "sh ./start.sh", user: nobody, limits: { nofile: 1234, nproc: 512 } }
              staging:
                process: { user: no-such-user-here }
                router: { listen: "127.0.0.1:\(other)" }
            """)
        // The app itself tries both: its shared directory, and the release it runs from.
        let start = """
            touch "$SLIPWAY_SHARED/written"
            if touch ./written 2>/dev/null; then echo yes; else echo no; fi > "$SLIPWAY_SHARED/release-writable"
            exec \(TestBinaries.demoApp) --port "$PORT"
            """
        try await s.withDaemon { _ in
            _ = try await s.release("v1", files: ["start.sh": start])
            let deployed = try await s.outcome(try await s.deploy("v1"))
            #expect(deployed.state == .succeeded, "\(deployed.message ?? "")")
            let all: [EnvironmentStatus] = try await s.client.get("/v1/status")
            let instances = try #require(all.first { $0.name == "production" }).instances
            #expect(instances.count == 2)
            for i in instances {
                #expect(Self.status(i.pid, "Uid")?.split(separator: "\t").map(String.init) == Array(repeating: "\(nobody)", count: 4), "\(Self.status(i.pid, "Uid") ?? "")")
                #expect(Self.status(i.pid, "NoNewPrivs") == "1")
                #expect(Self.status(i.pid, "Umask") == "0027")
                let limits = try String(contentsOfFile: "/proc/\(i.pid)/limits", encoding: .utf8)
                #expect(limits.split(separator: "\n").contains { $0.hasPrefix("Max open files") && $0.contains(" 1234 ") }, "\(limits)")
                #expect(limits.split(separator: "\n").contains { $0.hasPrefix("Max processes") && $0.contains(" 512 ") }, "\(limits)")
            }
            let shared = s.config.sharedDirectory("production")
            let written = try FileManager.default.attributesOfItem(atPath: shared + "/written")
            #expect((written[.ownerAccountID] as? NSNumber)?.uint32Value == nobody)
            #expect(try String(contentsOfFile: shared + "/release-writable", encoding: .utf8) == "no\n")
            let body = try await s.get()
            #expect(body.hasPrefix("200 hello from demo-app v1"), "\(body)")

            // A user this host does not have: the deploy fails before any instance starts, naming the key.
            let request = DeployRequest(version: "v1", environment: "staging", strategy: nil, kind: .deploy, actor: "test")
            let refused = try await s.outcome(try await s.client.post("/v1/deployments", request))
            #expect(refused.state == .failed && refused.message?.contains("process.user: there is no user 'no-such-user-here' on this host") == true,
                    "\(refused.message ?? "")")
        }
    }
}
