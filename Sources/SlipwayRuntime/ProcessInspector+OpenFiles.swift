#if canImport(Glibc)
import Glibc
#endif
import Foundation

extension ProcessInspector {
    /// Processes (this one included) holding `path` open, from /proc/*/fd. `complete` is false when some
    /// process's descriptors could not be read (another user's, when not root): then nobody can be sure.
    public static func openers(of path: String) -> (pids: [Int32], complete: Bool) {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        var pids: [Int32] = []
        var complete = true
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return ([], false) }
        for entry in entries {
            guard let pid = Int32(entry) else { continue }
            guard let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else {
                // Gone meanwhile (no /proc entry) is fine; present but unreadable is not.
                if FileManager.default.fileExists(atPath: "/proc/\(pid)") { complete = false }
                continue
            }
            for fd in fds {
                if let dest = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"), dest == target {
                    pids.append(pid)
                    break
                }
            }
        }
        return (pids, complete)
    }
}
