#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// What /proc says about a process; identity is pid plus start time, so a reused pid is never mistaken.
public enum ProcessInspector {
    /// The fields of /proc/PID/stat the supervisor uses, read with one `read(2)` into a stack buffer and parsed
    /// as bytes: the supervision loop reads it for every instance several times a second.
    public struct Stat: Sendable, Equatable {
        /// R, S, D, Z, X … (field 3).
        public var state: UInt8
        public var processGroup: Int32
        /// User and system CPU time in clock ticks (fields 14 and 15).
        public var userTicks: UInt64
        public var systemTicks: UInt64
        /// Start time in clock ticks since boot (field 22).
        public var startTime: UInt64
        /// Resident pages (field 24).
        public var residentPages: Int64

        public var isGone: Bool { state == UInt8(ascii: "Z") || state == UInt8(ascii: "X") }
        public var residentBytes: Int64 { residentPages * ProcessInspector.pageSize }
        public var cpuSeconds: Double { Double(userTicks + systemTicks) / ProcessInspector.ticksPerSecond }
    }

    static let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))
    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// /proc/PID/stat, or nil when there is no such process.
    public static func stat(_ pid: Int32) -> Stat? {
        guard pid > 0 else { return nil }
        let fd = "/proc/\(pid)/stat".withCString { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return buffer.withUnsafeBufferPointer { parse(UnsafeBufferPointer(rebasing: $0[0..<n])) }
    }

    /// Parses the text of /proc/PID/stat (the command name may hold spaces and parentheses: fields start after the last ')').
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Stat? {
        guard let close = bytes.lastIndex(of: 41) else { return nil }  // ')'
        // values[k] is field k after the name (0 is the state letter); fields 0…21 are all that is needed.
        var values = [UInt64](repeating: 0, count: 22)
        var state: UInt8 = 0
        var field = -1
        var previousWasSpace = true
        var index = close + 1
        while index < bytes.count {
            let b = bytes[index]
            index += 1
            if b == 32 || b == 10 {  // ' ' or '\n'
                previousWasSpace = true
                continue
            }
            if previousWasSpace {
                previousWasSpace = false
                field += 1
                if field >= values.count { break }
            }
            if field == 0 {
                state = b
            } else if b >= 48 && b <= 57 {  // a digit (a minus sign only occurs in fields this does not use)
                values[field] = values[field] &* 10 &+ UInt64(b &- 48)
            }
        }
        guard state != 0, field >= 19 else { return nil }
        return Stat(state: state, processGroup: Int32(truncatingIfNeeded: values[2]), userTicks: values[11], systemTicks: values[12],
                    startTime: values[19], residentPages: field >= 21 ? Int64(values[21]) : 0)
    }

    /// Start time in clock ticks since boot (field 22).
    public static func startTime(_ pid: Int32) -> UInt64? { stat(pid)?.startTime }

    /// Resident set size in bytes.
    public static func rss(_ pid: Int32) -> Int64? { stat(pid)?.residentBytes }

    /// CPU time used so far (user + system), in seconds (fields 14 and 15).
    public static func cpuSeconds(_ pid: Int32) -> Double? { stat(pid)?.cpuSeconds }

    /// Reaps `pid` if it is our child and has exited; returns its exit status (128+signal when killed).
    public static func reap(_ pid: Int32) -> Int32? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        guard r == pid else { return nil }
        let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        reaped.withLock { all in
            all[pid] = code
            if all.count > 256 { all.removeAll() }
        }
        return code
    }

    /// The exit status of a child reaped lately (`reap`), by pid: whoever reaped it, the cause can be told.
    public static func reapedStatus(_ pid: Int32) -> Int32? { reaped.withLock { $0[pid] } }

    private static let reaped = Mutex<[Int32: Int32]>([:])

    /// The process's stat while the process with this pid and start time runs (zombies count as gone and are reaped).
    public static func alive(pid: Int32, startTime: UInt64) -> Stat? {
        guard pid > 0 else { return nil }
        if reap(pid) != nil { return nil }
        guard let s = stat(pid), !s.isGone, startTime == 0 || s.startTime == startTime else { return nil }
        return s
    }

    /// True while the process with this pid and start time runs (zombies count as gone and are reaped).
    public static func isAlive(pid: Int32, startTime: UInt64) -> Bool { alive(pid: pid, startTime: startTime) != nil }

    /// The cheap check between full ones: reaps our exited child, then asks the kernel whether the pid exists
    /// (`kill(pid, 0)`, no /proc read). It cannot tell a reused pid from the process: call `alive` now and then.
    public static func pidExists(_ pid: Int32) -> Bool {
        guard pid > 0, reap(pid) == nil else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Sends a signal to the process, only if it is still the same process.
    @discardableResult
    public static func signal(pid: Int32, startTime: UInt64, _ sig: Int32) -> Bool {
        guard isAlive(pid: pid, startTime: startTime) else { return false }
        return kill(pid, sig) == 0
    }
}
