#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// `process.memory_limit` enforced through a cgroup v2 the host delegated to Slipway (`server.cgroup`, e.g.
/// systemd's `Delegate=yes` directory): each instance gets its own child cgroup with `memory.max` set to the
/// limit, and its process moves in right after it starts. Without a delegated cgroup with the memory
/// controller the limit is only measured (alerts and analysis compare with it), and `why` says so.
public struct CgroupLimiter: Sendable {
    public let path: String?
    /// Nil when limits are enforced; otherwise why they are only measured.
    public let why: String?

    public var enforces: Bool { why == nil }
    /// What `status` shows: `enforced (cgroup v2 PATH)` or `measured: WHY`.
    public var enforcement: String { why.map { "measured: \($0)" } ?? "enforced (cgroup v2 \(path ?? ""))" }

    /// Checks the delegated cgroup and enables the memory controller for its children. The daemon itself may
    /// sit in it (a unit's own cgroup): cgroup v2 lets a cgroup with enabled controllers hold no process, so
    /// the daemon moves into `PATH/daemon` first.
    public init(path: String?) {
        self.path = path
        guard let path else {
            why = "no cgroup is delegated to Slipway (server.cgroup)"
            return
        }
        let controllers = (try? String(contentsOfFile: path + "/cgroup.controllers", encoding: .utf8)) ?? ""
        guard controllers.split(whereSeparator: \.isWhitespace).contains("memory") else {
            why = "\(path) offers no memory controller (cgroup.controllers: '\(controllers.trimmingCharacters(in: .whitespacesAndNewlines))')"
            return
        }
        let procs = (try? String(contentsOfFile: path + "/cgroup.procs", encoding: .utf8)) ?? ""
        let members = procs.split(whereSeparator: \.isNewline).compactMap { Int32($0) }
        if members == [getpid()] {
            mkdir(path + "/daemon", 0o755)
            if let error = Self.write("\(getpid())", to: path + "/daemon/cgroup.procs") {
                why = "cannot move the daemon into \(path)/daemon: \(error)"
                return
            }
        }
        let subtree = (try? String(contentsOfFile: path + "/cgroup.subtree_control", encoding: .utf8)) ?? ""
        if !subtree.split(whereSeparator: \.isWhitespace).contains("memory"), let error = Self.write("+memory", to: path + "/cgroup.subtree_control") {
            why = "cannot enable the memory controller in \(path)/cgroup.subtree_control: \(error)"
            return
        }
        why = nil
    }

    /// Moves `pid` into the instance's own cgroup (`PATH/NAME`), created with `memory.max` = `memoryLimit`
    /// (or `max` without one). Returns why it could not, or nil.
    @discardableResult
    public func confine(pid: Int32, name: String, memoryLimit: Int64?) -> String? {
        guard enforces, let path else { return nil }
        let dir = path + "/" + name
        if mkdir(dir, 0o755) != 0 && errno != EEXIST { return "cannot create \(dir): \(String(cString: strerror(errno)))" }
        if let error = Self.write(memoryLimit.map(String.init) ?? "max", to: dir + "/memory.max") { return "cannot set \(dir)/memory.max: \(error)" }
        if let error = Self.write(String(pid), to: dir + "/cgroup.procs") { return "cannot move pid \(pid) into \(dir): \(error)" }
        return nil
    }

    /// Removes an instance's cgroup once its processes are gone (a cgroup still in use stays).
    public func release(name: String) {
        guard enforces, let path else { return }
        rmdir(path + "/" + name)
    }

    /// One `write(2)` of the whole value, as cgroup files want it; the error text, or nil.
    static func write(_ value: String, to file: String) -> String? {
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        return n == bytes.count ? nil : String(cString: strerror(errno))
    }
}
