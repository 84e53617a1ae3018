import Foundation

/// What a container uses, read from its cgroup (v2 `memory.current` and `cpu.stat`, or v1 `memory.usage_in_bytes`
/// and `cpuacct.usage`), found from its main process's `/proc/PID/cgroup`: the runtime client Slipway supervises
/// is not in it, the container's processes all are.
public struct ContainerCgroup: Sendable, Equatable {
    let memoryFile: String
    let cpuFile: String
    /// v2's `cpu.stat` (microseconds on its `usage_usec` line), else v1's `cpuacct.usage` (nanoseconds).
    let unified: Bool

    /// The cgroup of process `pid` (the container's main process), when its files can be read.
    public static func of(pid: Int32, root: String = "/sys/fs/cgroup") -> ContainerCgroup? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8) else { return nil }
        var v1: [String: String] = [:]
        var v2: String?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { continue }
            if parts[0] == "0", parts[1].isEmpty { v2 = parts[2] }
            for controller in parts[1].split(separator: ",") { v1[String(controller)] = parts[2] }
        }
        if let memory = v1["memory"], let cpu = v1["cpuacct"] {
            let found = ContainerCgroup(memoryFile: "\(root)/memory\(memory)/memory.usage_in_bytes", cpuFile: "\(root)/cpuacct\(cpu)/cpuacct.usage", unified: false)
            if found.read() != nil { return found }
        }
        if let v2 {
            let found = ContainerCgroup(memoryFile: "\(root)\(v2)/memory.current", cpuFile: "\(root)\(v2)/cpu.stat", unified: true)
            if found.read() != nil { return found }
        }
        return nil
    }

    /// Bytes in use and CPU seconds so far; nil once the cgroup is gone.
    public func read() -> (bytes: Int64, cpuSeconds: Double)? {
        guard let memory = try? String(contentsOfFile: memoryFile, encoding: .utf8), let bytes = Int64(memory.trimmingCharacters(in: .whitespacesAndNewlines)),
              let cpuText = try? String(contentsOfFile: cpuFile, encoding: .utf8) else { return nil }
        if unified {
            guard let line = cpuText.split(separator: "\n").first(where: { $0.hasPrefix("usage_usec ") }),
                  let usec = Double(line.dropFirst("usage_usec ".count)) else { return nil }
            return (bytes, usec / 1_000_000)
        }
        guard let ns = Double(cpuText.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return (bytes, ns / 1_000_000_000)
    }
}
