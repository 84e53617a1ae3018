#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// Pushes a file that another process is writing to disk while it is written (`fdatasync` in a loop on
/// its own thread), so the final `fsync` waits for the tail only, not for the whole file.
public final class WriteBehind: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    public init(path: String, every interval: Duration = .milliseconds(200)) {
        let micros = useconds_t(max(1000, interval.components.seconds * 1_000_000 + interval.components.attoseconds / 1_000_000_000_000))
        Thread.detachNewThread { [self] in
            var fd: Int32 = -1
            while !stopped.load(ordering: .acquiring) {
                if fd < 0 { fd = open(path, O_WRONLY | O_CLOEXEC) }
                if fd >= 0 { fdatasync(fd) }
                usleep(micros)
            }
            if fd >= 0 { close(fd) }
            done.signal()
        }
    }

    /// Stops the loop and waits for it.
    public func stop() {
        stopped.store(true, ordering: .releasing)
        done.wait()
    }

    /// `fsync` of a file (and with `directory`, of the directory that names it).
    public static func sync(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return fsync(fd) == 0
    }
}
