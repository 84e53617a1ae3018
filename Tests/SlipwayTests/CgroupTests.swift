import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import Testing

/// `process.memory_limit` through a delegated cgroup v2: enforced when the kernel offers the memory controller
/// there, and otherwise `status` says it is only measured, and why.
@Suite(.serialized)
struct CgroupTests {
    /// The cgroup v2 mount point, from /proc/self/mounts (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on a hybrid host).
    static func cgroup2Mount() -> String? {
        let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
        for line in mounts.split(separator: "\n") {
            let fields: [Substring] = line.split(separator: " ")
            if fields.count > 2, fields[2] == "cgroup2" { return String(fields[1]) }
        }
        return nil
    }

    @Test(.timeLimit(.minutes(1)))
    func statusSaysHowTheMemoryLimitIsHeldByThisKernel() async throws {
        let mount = try #require(Self.cgroup2Mount(), "no cgroup v2 mount on this host")
        let delegated = mount + "/slipway-test-\(UUID().uuidString.prefix(8))"
        #expect(mkdir(delegated, 0o755) == 0, "cannot create \(delegated): \(String(cString: strerror(errno)))")
        let s = try Sandbox(extra: "server: { cgroup: \(delegated) }")
        let yaml = try String(contentsOfFile: s.dir + "/slipway.yml", encoding: .utf8)
        try yaml.replacingOccurrences(of: "  stop_timeout: 3s", with: "  stop_timeout: 3s\n  memory_limit: 64MiB")
            .write(toFile: s.dir + "/slipway.yml", atomically: true, encoding: .utf8)
        let offered = (try? String(contentsOfFile: delegated + "/cgroup.controllers", encoding: .utf8)) ?? ""
        let kernelHasMemory = offered.split(whereSeparator: \.isWhitespace).contains("memory")
        try await s.withDaemon { _ in
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let status = try await s.status()
            let instances = status.instances
            if kernelHasMemory {
                #expect(status.memoryLimitEnforcement == "enforced (cgroup v2 \(delegated))")
                for i in instances {
                    let dir = "\(delegated)/production-v1-\(i.slot)"
                    #expect(try String(contentsOfFile: dir + "/memory.max", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "\(64 << 20)")
                    let own = try String(contentsOfFile: "/proc/\(i.pid)/cgroup", encoding: .utf8)
                    #expect(own.contains("0::" + String(dir.dropFirst(mount.count))), "\(own)")
                }
            } else {
                // This host (hybrid cgroups: memory stays on v1) offers no memory controller in v2: measured only, with the reason.
                let how = try #require(status.memoryLimitEnforcement)
                #expect(how.hasPrefix("measured: \(delegated) offers no memory controller"), "\(how)")
                let text = try await s.cli(["status"])
                #expect(text.text.contains("64.0 MiB per instance, measured: \(delegated) offers no memory controller"), "\(text)")
            }
        }
        // The instances are stopped: their cgroups go, then the delegated one.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: delegated)) ?? [] where !name.hasPrefix("cgroup.") && !name.contains(".") {
            rmdir(delegated + "/" + name)
        }
        #expect(rmdir(delegated) == 0, "\(delegated) is left behind: \(String(cString: strerror(errno)))")
    }

    /// What the supervisor writes, on a directory laid out as a delegated cgroup with the memory controller.
    @Test func anInstanceGetsItsOwnCgroupWithItsLimit() throws {
        let dir = NSTemporaryDirectory() + "cg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "cpuset cpu io memory pids\n".write(toFile: dir + "/cgroup.controllers", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/cgroup.subtree_control", atomically: true, encoding: .utf8)
        let limiter = CgroupLimiter(path: dir)
        #expect(limiter.enforces && limiter.enforcement == "enforced (cgroup v2 \(dir))")
        #expect(try String(contentsOfFile: dir + "/cgroup.subtree_control", encoding: .utf8) == "+memory")
        #expect(limiter.confine(pid: 4242, name: "production-v1-0", memoryLimit: 256 << 20) == nil)
        #expect(try String(contentsOfFile: dir + "/production-v1-0/memory.max", encoding: .utf8) == "\(256 << 20)")
        #expect(try String(contentsOfFile: dir + "/production-v1-0/cgroup.procs", encoding: .utf8) == "4242")

        try "cpu io pids\n".write(toFile: dir + "/cgroup.controllers", atomically: true, encoding: .utf8)
        let without = CgroupLimiter(path: dir)
        #expect(!without.enforces && without.enforcement == "measured: \(dir) offers no memory controller (cgroup.controllers: 'cpu io pids')")
        #expect(CgroupLimiter(path: nil).enforcement == "measured: no cgroup is delegated to Slipway (server.cgroup)")
    }
}
