#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An instance is its own session and process group (posix_spawn with setsid): the launcher it was
/// given (`sh -c '…; …'`, `npm start`, a wrapper script) and everything it forks. Stopping an instance
/// stops the whole group; it counts as stopped only when the group is empty.
public enum ProcessGroup {
    /// Live members of the group led by `leader` (its pgid), started no earlier than the leader was:
    /// a later group that reuses the number is never mistaken for it. Zombies count as gone.
    public static func members(of leader: Int32, startTime: UInt64) -> [Int32] {
        guard leader > 0, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var out: [Int32] = []
        for entry in entries {
            guard let pid = Int32(entry), let s = ProcessInspector.stat(pid), s.processGroup == leader, s.startTime >= startTime else { continue }
            if s.isGone {
                _ = ProcessInspector.reap(pid)
                continue
            }
            out.append(pid)
        }
        return out
    }

    /// Sends `sig` to every member; how many were signalled.
    @discardableResult
    public static func signal(_ leader: Int32, startTime: UInt64, _ sig: Int32) -> Int {
        _ = ProcessInspector.reap(leader)
        var sent = 0
        for pid in members(of: leader, startTime: startTime) where kill(pid, sig) == 0 { sent += 1 }
        return sent
    }

    public static func isEmpty(_ leader: Int32, startTime: UInt64) -> Bool {
        _ = ProcessInspector.reap(leader)
        return members(of: leader, startTime: startTime).isEmpty
    }

    /// `first` (SIGTERM) to the whole group, SIGKILL to what is left after `timeout`; returns once the group is
    /// empty (true), or false when something survived SIGKILL for 5 s more (a process stuck in the kernel).
    public static func stop(_ leader: Int32, startTime: UInt64, timeout: Duration, first: Int32 = SIGTERM) async -> (stopped: Bool, killed: Bool) {
        guard signal(leader, startTime: startTime, first) > 0 else { return (true, false) }
        if await waitEmpty(leader, startTime: startTime, until: ContinuousClock.now + timeout) { return (true, false) }
        signal(leader, startTime: startTime, SIGKILL)
        return (await waitEmpty(leader, startTime: startTime, until: ContinuousClock.now + .seconds(5)), true)
    }

    public static func waitEmpty(_ leader: Int32, startTime: UInt64, until deadline: ContinuousClock.Instant) async -> Bool {
        var pause = 2
        while !isEmpty(leader, startTime: startTime) {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(pause))
            pause = min(pause * 2, 20)
        }
        return true
    }
}
