#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What /proc says about a process; identity is pid plus start time, so a reused pid is never mistaken.
public enum ProcessInspector {
    /// Fields of /proc/PID/stat after the command name.
    static func statFields(_ pid: Int32) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// Start time in clock ticks since boot (field 22).
    public static func startTime(_ pid: Int32) -> UInt64? {
        guard let f = statFields(pid), f.count > 19 else { return nil }
        return UInt64(f[19])
    }

    /// Resident set size in bytes.
    public static func rss(_ pid: Int32) -> Int64? {
        guard let f = statFields(pid), f.count > 21, let pages = Int64(f[21]) else { return nil }
        return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// CPU time used so far (user + system), in seconds (fields 14 and 15).
    public static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let f = statFields(pid), f.count > 12, let user = Double(f[11]), let system = Double(f[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Reaps `pid` if it is our child and has exited; returns its exit status (128+signal when killed).
    public static func reap(_ pid: Int32) -> Int32? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        guard r == pid else { return nil }
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    /// True while the process with this pid and start time runs (zombies count as gone and are reaped).
    public static func isAlive(pid: Int32, startTime: UInt64) -> Bool {
        guard pid > 0 else { return false }
        if reap(pid) != nil { return false }
        guard let f = statFields(pid), let state = f.first, let start = Self.startTime(pid) else { return false }
        if state == "Z" || state == "X" { return false }
        return startTime == 0 || start == startTime
    }

    /// Sends a signal to the process, only if it is still the same process.
    @discardableResult
    public static func signal(pid: Int32, startTime: UInt64, _ sig: Int32) -> Bool {
        guard isAlive(pid: pid, startTime: startTime) else { return false }
        return kill(pid, sig) == 0
    }
}
